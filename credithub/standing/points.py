"""量化记分: misconduct points over a rolling window, and the threshold measures they start.

Pure helpers for `compute.py`. A counted misconduct record adds its points on its `starts_on`
and leaves the window `window_months` later: it counts while starts_on <= day < exit. The
rolling sum is a step function of the day, built once per subject as a list of `Step`s, in
O(n log n) over the subject's misconduct records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from credithub.rules.pack_entries import add_months

if TYPE_CHECKING:
    from credithub.standing.values import RecordFacts


@dataclass(frozen=True)
class Entry:
    """One counted misconduct record in the window arithmetic."""

    record: RecordFacts
    starts: date
    exit: date  # the first day it no longer counts
    points: int  # effective points: 0 when forgiven (容错) or the code is unknown
    forgiven: bool
    known: bool  # the code is in the rule pack


@dataclass
class Step:
    """From `day` until the next step's day, the rolling sum is `total`."""

    day: date
    before: int  # the sum after the day's exits, before its entries
    total: int
    entries: list[Entry] = field(default_factory=list)  # the day's entries, in order

    def crosser(self, threshold: int) -> Entry | None:
        """The first of the day's entries with points that leaves the sum >= `threshold`."""
        running = self.before
        for e in self.entries:
            running += e.points
            if e.points > 0 and running >= threshold:
                return e
        return None


def entries(
    records: Sequence[RecordFacts],
    codes: dict[str, tuple[int, bool]],
    window_months: int,
) -> list[Entry]:
    """The records as window entries, oldest first, with 容错 applied.

    `codes` maps a misconduct code to (points, forgivable). A forgivable record carries no
    points when no other counted misconduct record is in the window at its start and before it
    in the order (starts_on, decided_on, id): of two on the same day, the first is forgiven.
    """
    out: list[Entry] = []
    latest_exit: date | None = None  # the latest exit of the records before this one
    for rec in sorted(records, key=lambda r: (r.starts_on, r.decided_on, r.id)):
        exit_day = add_months(rec.starts_on, window_months)
        known = rec.code is not None and rec.code in codes
        points, forgivable = codes[rec.code] if known and rec.code is not None else (0, False)
        # Exits grow with starts: "some earlier record still in the window" is "the latest
        # exit so far is after this start".
        forgiven = forgivable and (latest_exit is None or latest_exit <= rec.starts_on)
        out.append(Entry(rec, rec.starts_on, exit_day, 0 if forgiven else points, forgiven, known))
        if latest_exit is None or exit_day > latest_exit:
            latest_exit = exit_day
    return out


def steps(window: Sequence[Entry]) -> list[Step]:
    """The rolling sum as steps, one per day on which a record enters or leaves."""
    events: list[tuple[date, int, int]] = []  # (day, 0 = exit / 1 = entry, index)
    for i, e in enumerate(window):
        events.append((e.starts, 1, i))
        events.append((e.exit, 0, i))
    events.sort()
    out: list[Step] = []
    total = 0
    for day, kind, i in events:
        e = window[i]
        if not out or out[-1].day != day:
            out.append(Step(day, total, total))
        step = out[-1]
        if kind == 0:
            total -= e.points
            step.before = total
        else:
            total += e.points
            step.entries.append(e)
        step.total = total
    return out


def index_at(timeline: Sequence[Step], day: date) -> int:
    """The index of the step in force on `day` (-1: before the first)."""
    lo, hi = 0, len(timeline)
    while lo < hi:
        mid = (lo + hi) // 2
        if timeline[mid].day <= day:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def run_above(
    timeline: Sequence[Step], i: int, threshold: int
) -> tuple[date, date | None, Entry | None] | None:
    """(first day, first day below again, crossing entry) of the run at or above `threshold`
    that contains step `i`; None when the sum at step `i` is below it."""
    if i < 0 or timeline[i].total < threshold:
        return None
    first = i
    while first > 0 and timeline[first - 1].total >= threshold:
        first -= 1
    end = next((s.day for s in timeline[i + 1 :] if s.total < threshold), None)
    return timeline[first].day, end, timeline[first].crosser(threshold)


def last_reached(timeline: Sequence[Step], i: int, threshold: int) -> tuple[Step, Entry] | None:
    """The latest step up to `i` on which a record with points entered and left the sum at or
    above `threshold` (a new offence while above the threshold reaches it again)."""
    for j in range(i, -1, -1):
        step = timeline[j]
        if step.total >= threshold:
            crosser = step.crosser(threshold)
            if crosser is not None:
                return step, crosser
    return None


def in_window(window: Sequence[Entry], day: date) -> list[Entry]:
    """The entries with points that count on `day`."""
    return [e for e in window if e.points > 0 and e.starts <= day < e.exit]


@dataclass(frozen=True)
class Hit:
    """A threshold measure that runs at the day asked: from `start` until `until`."""

    threshold: int
    record: RecordFacts  # the record that crossed the threshold
    start: date
    until: date | None
    reason: str
    since: date  # the day whose window gives the "records" domains


def threshold_hits(
    timeline: Sequence[Step],
    day: date,
    thresholds: Sequence[tuple[int, str, int | None]],
    window_months: int,
) -> list[Hit]:
    """For each (min_points, runs, months) threshold whose measure may run on `day`, the
    term it runs: `months` from the latest day it was reached, or `while_points_above` for
    the run at or above it that contains `day`. The caller keeps the hits active on `day`."""
    now = index_at(timeline, day)
    hits: list[Hit] = []
    for threshold, runs, months in thresholds:
        what = f"misconduct points {{}} in {window_months} months ≥ {threshold}"
        if runs == "months" and months is not None:
            reached = last_reached(timeline, now, threshold)
            if reached is not None:
                step, crosser = reached
                reason = what.format(step.total) + f" on {step.day.isoformat()}"
                until = add_months(step.day, months)
                hits.append(Hit(threshold, crosser.record, step.day, until, reason, step.day))
            continue
        run = run_above(timeline, now, threshold)
        if run is None:
            continue
        start, end, entry = run
        if entry is not None:  # always: a run starts with an entry that crosses
            reason = what.format(timeline[now].total)
            hits.append(Hit(threshold, entry.record, start, end, reason, day))
    return hits
