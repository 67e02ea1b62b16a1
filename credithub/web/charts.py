"""Charts as inline SVG, drawn on the server: no script, no inline style (the pages' CSP),
every text escaped. Colours and fonts come from the stylesheet through class names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 16, 40


def score_history(points: Sequence[dict[str, Any]], minimum: float, maximum: float) -> Markup:
    """A line of scores over time (`points`: `on`, `score`, `level`), each point labelled with
    its level, the axis with the month."""
    if not points:
        return Markup("")
    span = (maximum - minimum) or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(1, len(points) - 1)

    def y(score: float) -> float:
        return TOP + inner_h * (1 - (score - minimum) / span)

    parts = [
        f'<svg class="chart score-history" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="信用评分变化">',
        "<title>信用评分变化(每月1日及当前)</title>",
    ]
    for tick in (minimum, minimum + span / 2, maximum):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{escape(f"{tick:g}")}</text>'
        )
    coords = [(LEFT + i * step, y(float(p["score"]))) for i, p in enumerate(points)]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    parts.append(f'<polyline class="line" points="{path}"/>')
    for (x, yy), point in zip(coords, points, strict=True):
        label = f"{point['on'].isoformat()}:{point['score']:g} 分({point['level']})"
        parts.append(
            f'<circle class="dot level-{escape(point["level"])}" cx="{x:.1f}" cy="{yy:.1f}" '
            f'r="3.5"><title>{escape(label)}</title></circle>'
        )
    for i, ((x, _), point) in enumerate(zip(coords, points, strict=True)):
        if i % 2 == 0 or i == len(points) - 1:
            text = "当前" if i == len(points) - 1 else point["on"].strftime("%y-%m")
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{escape(text)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every outside value above went through escape()
