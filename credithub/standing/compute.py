"""The standing of a subject at an instant: pure, explainable record by record.

`compute_standing(records, pack, at)` answers "may this subject take part in this trading
domain at `at`": the restrictions active then (each naming its measure, legal basis and
record), the misconduct points in the rolling window (points.py), the integrity score with one
line per contributing record (score.py), and `valid_until`, the next instant at which time
alone changes any of it. Every number comes from the rule pack; the pack is looked up once per
pack object, not per call.

Record dates are China dates; an instant `at` is compared through its China date. Intervals
are half-open: a restriction is active while start <= day < until.

Decisions where the rules leave room:
- A record revoked or repaired without `revoked_at` never counts; a naive `at` is an error (a
  naive `revoked_at` is read as UTC, as the database stores it). Disputed records count, and
  so do expired ones exactly as if active: the dates decide (a check with a past `at` still
  sees a restriction that has ended since, and the score keeps its decaying deduction).
- A listing's measure that runs `while_listed` ends on the record's `ends_on` (exclusive), else
  on the list's default expiry, else never. One that runs `months` ignores `ends_on`.
- A penalty trigger's measure that runs `while_listed` runs from the decision date until the
  penalty's own end (`ends_on`; None: open-ended). The shipped validation only lets triggers
  use `months` measures, so this is a fallback.
- A points measure that runs `months` starts on the latest day up to `at` on which a record
  with points entered the window and left the sum at or above the threshold: a new offence
  while above the threshold reaches it again and restarts the term. Its "records" domains are
  those of the records with points in the window on that day; a `while_points_above` measure
  takes those of the records with points in the window at `at`. Forgiven (0-point) records
  add no domains. The crossing record is the first entry of the day that brought the sum to
  the threshold.
- The score deducts every counted record's weight times the decay from its decision date, also
  after a listing or publication has ended (the decay ends it). A deduction decayed to zero
  and an inactive commendation are left out of the explanation; a forgiven record and a code
  the pack does not know are explained with a zero line (a blacklist record with an unknown
  list still deducts). Lines come in decision-date order. A penalty without a severity is
  classified from its categories and fine (general if that fails).
- The query limit (rule pack `[limits]`, 5 years): from `query_ends(act)` on (the act: the
  decision date; a misconduct record's `starts_on`, the date it occurred when given) a record
  counts only through a restriction it carries that is still active; with none, it adds neither
  restriction nor score line. A misconduct record past the limit no longer counts at all (its
  points left the window long before). Commendations have no limit. The limit's first day is a
  candidate for `valid_until` when the record counts before it (so the rescore job finds the
  standings it changes), for misconduct only when the pack's window or decay outlasts it.
- A listing of an organization naming this person as legal representative (`via` set) restricts
  the person when the list reaches legal representatives (`reaches = ["legal_rep"]`): the same
  measures, domains and term, citing the organization's record, name and USCC in the reason; it
  deducts nothing from the person's score.
- `valid_until` also takes the revocation instant of a record revoked after `at` (only a
  standing computed for a past `at` meets one): from then on the answer differs. It is the only
  candidate that is not a China midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import Measure, add_months
from credithub.standing import points as pts
from credithub.standing.rules import Rules, rules_for
from credithub.standing.score import ScoreLine, cents, explain, num
from credithub.standing.values import (
    GONE,
    RecordFacts,
    Restriction,
    Standing,
    china_date,
    china_midnight,
    revoked_by,
)

# --- the computation -----------------------------------------------------------------------


class _Next:
    """The earliest change after `day` (a China date) or after `at` (an instant)."""

    def __init__(self, day: date, at: datetime) -> None:
        self.day, self.at = day, at
        self.first: date | None = None
        self.instant: datetime | None = None

    def date(self, d: date | None) -> None:
        if d is not None and d > self.day and (self.first is None or d < self.first):
            self.first = d

    def moment(self, when: datetime) -> None:
        if when > self.at and (self.instant is None or when < self.instant):
            self.instant = when

    def result(self) -> datetime | None:
        midnight = None if self.first is None else china_midnight(self.first)
        if self.instant is None or (midnight is not None and midnight <= self.instant):
            return midnight
        return self.instant


class _Computation:
    """One subject at one instant: gathers restrictions, score lines and the next change."""

    def __init__(self, rules: Rules, at: datetime) -> None:
        self.rules, self.at = rules, at
        self.day = china_date(at)
        self.next = _Next(self.day, at)
        self.found: list[Restriction] = []
        self.lines: list[tuple[tuple[date, str], ScoreLine]] = []

    def restrict(
        self,
        m: Measure,
        rec: RecordFacts,
        start: date,
        until: date | None,
        reason: str,
        domains: tuple[str, ...] | None = None,
    ) -> None:
        """Keep the measure's restriction if it is active on the day; note its boundaries."""
        self.next.date(start)
        self.next.date(until)
        if start <= self.day and (until is None or self.day < until):
            if domains is None:
                domains = self.rules.domains_of(rec) if m.scope == "records" else m.domains
            domains = self.rules.ordered(domains)
            self.found.append(
                Restriction(m.code, m.title, m.effect, domains, start, until, m.basis, rec.id,
                            rec.authority_name, reason, rec.status == "disputed")
            )  # fmt: skip

    def line(self, rec: RecordFacts, amount: int, reason: str) -> None:
        """A score line of `amount` cents for the record."""
        line = ScoreLine(rec.id, rec.kind, rec.ref, amount / 100, reason)
        self.lines.append(((rec.decided_on, rec.id), line))

    def deduct(self, rec: RecordFacts, weight: float, what: str) -> None:
        """A decaying deduction of `weight` for the record (left out once it decayed to 0)."""
        factor = self.rules.score.decay_factor(rec.decided_on, self.day)
        if weight and factor > 0:
            self.next.date(self.day + timedelta(days=1))  # linear decay: tomorrow differs
        amount = -cents(weight * factor)
        if amount:
            self.line(rec, amount, f"{what} (−{num(weight)}) × decay {factor:.2f}")

    def listing(self, rec: RecordFacts) -> None:
        """The measures of a blacklist record's list, and its deduction; an organization's
        listing that names this person as legal representative (`via`): its measures only, if
        the list reaches legal representatives."""
        entry = self.rules.lists.get(rec.code or "")
        if rec.via is not None and (entry is None or "legal_rep" not in entry[0].reaches):
            return
        if entry is not None:
            rule, measures, default_months = entry
            start = rec.starts_on
            reason = f"listed on {rule.title} ({rule.code})"
            if rec.via is not None:
                name, uscc = rec.via
                reason = f"legal representative (法定代表人) of {name} ({uscc}), {reason}"
            for m in measures:
                until: date | None = rec.ends_on
                if m.runs == "months" and m.months is not None:
                    until = add_months(start, m.months)
                elif until is None and default_months is not None:
                    until = add_months(start, default_months)
                self.restrict(m, rec, start, until, reason)
        if rec.via is None:
            self.deduct(rec, self.rules.score.blacklist, f"listed on {rec.code}")

    def mark(self) -> tuple[int, int]:
        return len(self.found), len(self.lines)

    def changes_at_limit(self, mark: tuple[int, int], ends: date) -> bool:
        """Whether what the record added since `mark` changes when the query limit comes: it
        adds score lines now and no restriction of it runs beyond the limit."""
        found, lines = mark
        if len(self.lines) == lines:
            return False  # its restrictions' ends are noted already
        return all(r.until is not None and r.until <= ends for r in self.found[found:])

    def keep_if_restricting(self, mark: tuple[int, int]) -> None:
        """Past the query limit: what the record added stays only if it restricts now."""
        found, lines = mark
        if len(self.found) == found:
            del self.lines[lines:]

    def penalty(self, rec: RecordFacts) -> None:
        """The measures of the triggers the penalty starts (as pack.triggers_for, with the
        pack looked up once), and its deduction."""
        rules = self.rules
        fine = rec.fine_yuan
        for t, by_category in rules.triggers_in(rec.domains, rec.categories):
            fined = t.min_fine is not None and fine is not None and fine >= t.min_fine
            if not (fined or by_category):
                continue
            for m in t.measures:
                until = rec.ends_on
                if m.runs == "months" and m.months is not None:
                    until = add_months(rec.decided_on, m.months)
                reason = f"penalty meets trigger {t.code} ({t.title})"
                self.restrict(m, rec, rec.decided_on, until, reason)
        severity = rules.severity_of(rec)
        self.deduct(rec, rules.score.penalty.get(severity, 0.0), f"{severity} penalty")

    def commendation(self, rec: RecordFacts) -> None:
        """The bonus of a commendation while it runs."""
        c = self.rules.pack.commendations.get(rec.code or "")
        end = rec.ends_on
        if end is None and c is not None and c.default_months is not None:
            end = add_months(rec.starts_on, c.default_months)
        self.next.date(rec.starts_on)
        self.next.date(end)
        if not (rec.starts_on <= self.day and (end is None or self.day < end)):
            return
        if c is None:
            self.line(rec, 0, f"commendation {rec.code} is not in rule pack {self.rules.pack.id}")
        else:
            until = "open-ended" if end is None else f"until {end.isoformat()}"
            self.line(rec, cents(c.bonus), f"commendation {c.code} (+{num(c.bonus)}) {until}")

    def misconduct(self, records: list[RecordFacts]) -> int:
        """Each record's deduction, the threshold measures; the points in the window."""
        if not records:  # no points, no threshold reached: nothing to add
            return 0
        rules = self.rules
        window = pts.entries(records, rules.codes, rules.window)
        per = rules.score.misconduct_per_point
        for e in window:
            self.next.date(e.starts)
            self.next.date(e.exit)
            rec = e.record
            if e.forgiven:
                self.line(rec, 0, f"容错: first minor offence ({rec.code}, no points)")
            elif not e.known:
                self.line(rec, 0, f"misconduct code {rec.code} is not in rule pack {rules.pack.id}")
            else:
                self.deduct(
                    rec, e.points * per, f"misconduct {rec.code}: {e.points} points × {num(per)}"
                )
        timeline = pts.steps(window)
        for hit in pts.threshold_hits(timeline, self.day, rules.thresholds, rules.window):
            m = rules.threshold_measures[hit.threshold]
            domains = None
            if m.scope == "records":
                counted = pts.in_window(window, hit.since)
                domains = tuple({d for e in counted for d in rules.domains_of(e.record)})
            self.restrict(m, hit.record, hit.start, hit.until, hit.reason, domains)
        now = pts.index_at(timeline, self.day)
        return timeline[now].total if now >= 0 else 0

    def standing(self, points: int) -> Standing:
        lines = [line for _, line in sorted(self.lines, key=lambda x: x[0])]
        score, level, explanation = explain(self.rules.score, lines)
        self.found.sort(key=lambda r: (r.start, r.measure, r.record_id or ""))
        return Standing(self.at, tuple(self.found), points, score, level, tuple(explanation),
                        self.next.result())  # fmt: skip


def compute_standing(records: Sequence[RecordFacts], pack: RulePack, at: datetime) -> Standing:
    """The standing the records (all of one subject) give at `at` under `pack`."""
    run = _Computation(rules_for(pack), at)
    day = run.day
    limits = pack.limits
    # Whether misconduct can still count at the limit (points or decay longer than it).
    lasting_points = 12 * limits.query_years < max(pack.points.window_months,
                                                   pack.score.decay_months)  # fmt: skip
    misconduct: list[RecordFacts] = []
    for rec in records:
        gone = revoked_by(rec, at)
        if rec.decided_on > day:
            if not gone:
                run.next.date(rec.decided_on)
            continue
        if gone:
            continue
        if rec.revoked_at is not None and rec.status in GONE:  # revoked after `at`
            when = rec.revoked_at
            run.next.moment(when if when.tzinfo else when.replace(tzinfo=UTC))
        if rec.kind == "commendation":
            run.commendation(rec)
            continue
        ends = limits.query_ends(rec.act_on)
        past = ends <= day
        if rec.kind == "misconduct":
            if not past:
                misconduct.append(rec)
                if lasting_points:
                    run.next.date(ends)
            continue
        mark = run.mark()
        if rec.kind == "penalty":
            run.penalty(rec)
        elif rec.kind == "blacklist":
            run.listing(rec)
        if past:
            run.keep_if_restricting(mark)
        elif run.changes_at_limit(mark, ends):
            run.next.date(ends)
    return run.standing(run.misconduct(misconduct))
