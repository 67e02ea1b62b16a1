"""Bar charts drawn on the server: the geometry of a stacked bar chart, which a template renders
as inline SVG (its text escaped like any other; no script)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30
SERIES_COLOURS = 8  # site.css colours series 0 to 7; more series reuse them


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str  # shown on hover: day, series, count


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    legend: list[tuple[int, str, int]] = field(default_factory=list)  # colour, name, total
    total: int = 0
    base: float = HEIGHT - BOTTOM


def stacked_bars(days: Sequence[date], counts: Mapping[tuple[date, str], int]) -> Chart:
    """One bar per day, stacked by series (the second part of each key), largest series first."""
    totals: dict[str, int] = {}
    for (_day, name), n in counts.items():
        totals[name] = totals.get(name, 0) + n
    names = sorted(totals, key=lambda name: (-totals[name], name))
    colour = {name: i % SERIES_COLOURS for i, name in enumerate(names)}
    per_day = [sum(counts.get((day, name), 0) for name in names) for day in days]
    top = max(per_day, default=0) or 1
    chart = Chart(WIDTH, HEIGHT, total=sum(per_day))
    chart.legend = [(colour[name], name, totals[name]) for name in names]
    plot_h = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    for i, day in enumerate(days):
        x = LEFT + i * step
        y = float(HEIGHT - BOTTOM)
        for name in names:
            n = counts.get((day, name), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            title = f"{day.isoformat()} {name}: {n}"
            chart.bars.append(Bar(round(x + 1, 1), round(y, 1), round(step - 2, 1),
                                  round(h, 1), colour[name], title))  # fmt: skip
        if i % 5 == 0 or i == len(days) - 1:
            chart.x_labels.append((round(x + step / 2, 1), day.strftime("%m-%d")))
    for value in sorted({0, top // 2, top}):
        chart.y_ticks.append((round(HEIGHT - BOTTOM - plot_h * value / top, 1), value))
    return chart
