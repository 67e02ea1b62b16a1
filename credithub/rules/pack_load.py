"""Reading a rule pack: TOML in, a validated RulePack out.

Every problem stops loading with a message naming the file and the entry
(`lists[1] (gp-serious): measure 'gp-bar' is not defined`, entries counted from 0): a pack
decides who may bid, so a typo must never be silently ignored or half applied.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from credithub.db import canonical_json
from credithub.rules import pack as rp
from credithub.rules.pack import RulePackError

SHIPPED = Path(__file__).parent
_SHIPPED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_MARKS = ("check", "note")
_PERIOD = ("published", "min_months", "max_months")
_REQUIRED = (
    *("pack", "domains", "severity", "publication", "measures", "lists", "misconduct"),
    *("points", "score", "default_domains"),
)
_SECTIONS = (*_REQUIRED, "sectors", "triggers", "commendations")
_ENTRY = ("code", "title", "basis", *_MARKS)
_TERMS = ("default_months", "min_months", "max_months")
_KEYS: dict[str, tuple[str, ...]] = {  # the keys each array-of-tables entry may have
    "publication": ("id", "title", "from", "until", "classes", "sectors", *_MARKS),
    "measures": (*_ENTRY, "effect", "domains", "runs", "months"),
    "lists": (*_ENTRY, "subjects", "measures", "severity", "reaches", *_TERMS),
    "triggers": (*_ENTRY, "categories", "min_fine_yuan", "penalty_domains", "measures"),
    "misconduct": (*_ENTRY, "points", "domains", "forgivable"),
    "commendations": (*_ENTRY, "bonus", "default_months"),
}
T = TypeVar("T")
Domains = Mapping[str, rp.Domain]
Measures = Mapping[str, rp.Measure]


class _Table:
    """One TOML table being read: typed access, and every error names where it is."""

    def __init__(self, data: Any, where: str, keys: Iterable[str], what: str = "key") -> None:
        if not isinstance(data, dict):
            raise RulePackError(f"{where}: expected a table, got {data!r}")
        allowed = set(keys)
        unknown = [k for k in data if k not in allowed]
        if unknown:
            raise RulePackError(f"{where}: unknown {what} '{unknown[0]}'")
        self.data: dict[str, Any] = data
        self.where = where
        self.what = what

    def fail(self, message: str) -> NoReturn:
        raise RulePackError(f"{self.where}: {message}")

    def get(self, key: str, required: bool = True) -> Any:
        if required and key not in self.data:
            self.fail(f"missing required {self.what} '{key}'")
        return self.data.get(key)

    def text(self, key: str, required: bool = True) -> str:
        value = self.get(key, required)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(f"'{key}' must be a non-empty string")
        return value.strip()

    def code(self, key: str = "code") -> str:
        value = self.text(key)
        if not _CODE.match(value):
            self.fail(f"'{key}' {value!r}: letters, digits, '-' and '_' only")
        return value

    def choice(self, key: str, choices: tuple[str, ...], what: str) -> str:
        value = self.text(key)
        if value not in choices:
            self.fail(f"'{key}': unknown {what} {value!r} (use {', '.join(choices)})")
        return value

    def opt_count(self, key: str, minimum: int = 0) -> int | None:
        value = self.get(key, required=False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"'{key}' must be a whole number, got {value!r}")
        if value < minimum:
            self.fail(
                f"'{key}' must not be negative" if minimum == 0 else f"'{key}' must be ≥ {minimum}"
            )
        return value

    def count(self, key: str, minimum: int = 0) -> int:
        self.get(key)
        value = self.opt_count(key, minimum)
        assert value is not None  # get() raised when missing
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"'{key}' must be a number, got {value!r}")
        if value < 0:
            self.fail(f"'{key}' must not be negative")
        return float(value)

    def yuan(self, key: str) -> Decimal | None:
        return None if key not in self.data else Decimal(str(self.number(key)))

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"'{key}' must be true or false")
        return value

    def day(self, key: str) -> date | None:
        value = self.data.get(key)
        # A TOML datetime is a date subclass; only a plain date is meant here.
        if value is not None and type(value) is not date:
            self.fail(f"'{key}' must be a date like 2026-04-01, got {value!r}")
        return value

    def strings(self, key: str, required: bool = True) -> tuple[str, ...]:
        value = self.get(key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(f"'{key}' must be a list of strings")
        if len(set(value)) != len(value):
            self.fail(f"'{key}' names an entry twice")
        return tuple(value)

    def refs(self, key: str, known: Mapping[str, Any], what: str) -> tuple[str, ...]:
        refs = self.strings(key)
        if not refs:
            self.fail(f"'{key}' must name at least one {what}")
        for ref in refs:
            if ref not in known:
                self.fail(f"{what} '{ref}' is not defined")
        return refs

    def table(
        self, key: str, keys: Iterable[str], required: bool = True, what: str = "key"
    ) -> _Table:
        value = self.get(key, required)
        return _Table({} if value is None else value, self.sub(key), keys, what)

    def mapping(self, key: str, required: bool = True) -> _Table:
        """A table whose keys are names the pack chooses (codes, categories)."""
        value = self.get(key, required)
        value = {} if value is None else value
        return _Table(value, self.sub(key), value if isinstance(value, dict) else ())

    def tables(self, key: str, keys: Iterable[str], required: bool = True) -> list[_Table]:
        value = self.get(key, required)
        if value is not None and not isinstance(value, list):
            self.fail(f"'{key}' must be an array of tables ([[{key}]])")
        return [
            _Table(v, _label(f"{self.sub(key)}[{i}]", v), keys) for i, v in enumerate(value or [])
        ]

    def sub(self, key: str) -> str:
        return key if self.where == "rule pack" else f"{self.where}.{key}"

    def marks(self) -> dict[str, Any]:
        return {"check": self.flag("check"), "note": self.text("note", required=False)}


def _label(where: str, entry: Any) -> str:
    """`lists[1]`, and the entry's code when it has one: `lists[1] (gp-serious)`."""
    code = entry.get("code", entry.get("id")) if isinstance(entry, dict) else None
    return f"{where} ({code})" if isinstance(code, str) else where


def _domains(
    t: _Table, key: str, domains: Domains, words: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """(rule, domains) of a domains value: a list of domains, or one of `words`."""
    value = t.get(key)
    if not isinstance(value, str):
        return "listed", t.refs(key, domains, "domain")
    if value not in words:
        choices = " or ".join(repr(w) for w in words)
        t.fail(f"'{key}' must be a list of domains or {choices}, got {value!r}")
    return value, tuple(domains) if value == "all" else ()


def _use_measures(
    t: _Table,
    refs: tuple[str, ...],
    measures: Measures,
    runs: tuple[str, ...],
    user: str,
) -> tuple[str, ...]:
    """`refs`, checked: each measure is defined and runs in a way `user` can start."""
    for ref in refs:
        if ref not in measures:
            t.fail(f"measure '{ref}' is not defined")
        if measures[ref].runs not in runs:
            t.fail(f"measure '{ref}' runs {measures[ref].runs}, which {user} cannot use")
    return refs


def _entries(
    root: _Table, key: str, build: Callable[[_Table], T], attr: str = "code"
) -> dict[str, T]:
    """An array of tables with unique codes, by code, in file order."""
    out: dict[str, T] = {}
    seen: dict[str, str] = {}
    for entry in root.tables(key, _KEYS[key], required=key in _REQUIRED):
        built = build(entry)
        code = str(getattr(built, attr))
        if code in seen:
            entry.fail(f"duplicate code '{code}' (also {seen[code]})")
        seen[code] = entry.where
        out[code] = built
    return out


def _severity(root: _Table) -> tuple[dict[str, str], rp.SeverityRules]:
    t = root.table("severity", ("basis", "categories", "aliases", "fines", *_MARKS))
    cats = t.mapping("categories")
    if not cats.data:
        cats.fail("at least one 处罚类别 is needed")
    categories = {name: cats.choice(name, rp.SEVERITIES, "severity class") for name in cats.data}
    al = t.mapping("aliases", required=False)
    for name in al.data:
        if name in categories:
            al.fail(f"'{name}' is a category already, it cannot be an alias")
    aliases = {name: al.refs(name, categories, "category") for name in al.data}
    f = t.table("fines", ("general_min_yuan", "serious_min_yuan", *_MARKS), required=False)
    general, serious = f.yuan("general_min_yuan"), f.yuan("serious_min_yuan")
    if general is not None and serious is not None and serious <= general:
        f.fail(f"thresholds must increase: serious_min_yuan {serious} ≤ general_min_yuan {general}")
    fines = rp.FineThresholds(general, serious, **f.marks())
    return categories, rp.SeverityRules(t.text("basis"), aliases, fines, **t.marks())


def _period(t: _Table, base: rp.ClassPeriod | None) -> rp.ClassPeriod:
    """A class's publication period; over `base`, only the keys given change it."""
    low = t.count("min_months") if base is None else t.opt_count("min_months")
    high = t.opt_count("max_months")
    period = rp.ClassPeriod(
        published=t.flag("published", True if base is None else base.published),
        min_months=low if low is not None else base.min_months if base else 0,
        max_months=high if high is not None else base.max_months if base else None,
    )
    if period.max_months is not None and period.min_months > period.max_months:
        t.fail(f"min_months {period.min_months} is above max_months {period.max_months}")
    return period


def _regime(t: _Table, sectors: Mapping[str, rp.Sector]) -> rp.Regime:
    rid = t.code("id")
    ct = t.table("classes", rp.SEVERITIES, what="severity class")
    classes = {c: _period(ct.table(c, _PERIOD), None) for c in rp.SEVERITIES}
    overrides: dict[str, rp.SectorPeriods] = {}
    st = t.mapping("sectors", required=False)
    for name in st.data:
        if name not in sectors:
            st.fail(f"sector '{name}' is not defined in [sectors]")
        s = st.table(name, (*_PERIOD, *rp.SEVERITIES, *_MARKS))
        wide = _Table({k: v for k, v in s.data.items() if k in _PERIOD}, s.where, _PERIOD)
        merged = {
            c: _period(s.table(c, _PERIOD, required=False), _period(wide, classes[c]))
            for c in rp.SEVERITIES
        }
        overrides[name] = rp.SectorPeriods(name, merged, **s.marks())
    starts, ends = t.day("from"), t.day("until")
    if starts is not None and ends is not None and starts > ends:
        t.fail(f"'from' {starts} is after 'until' {ends}")
    return rp.Regime(rid, t.text("title"), starts, ends, classes, overrides, **t.marks())


def _regimes(root: _Table, sectors: Mapping[str, rp.Sector]) -> tuple[rp.Regime, ...]:
    regimes = list(_entries(root, "publication", lambda e: _regime(e, sectors), "id").values())
    if not regimes:
        root.fail("'publication' needs at least one regime ([[publication]])")
    where = [f"publication[{i}] ({r.id})" for i, r in enumerate(regimes)]

    def fail(i: int, message: str) -> NoReturn:
        raise RulePackError(f"{where[i]}: {message}")

    if regimes[0].starts is not None:
        fail(0, "the first regime must have no 'from', so every earlier decision has one")
    if regimes[-1].ends is not None:
        fail(-1, "the last regime must have no 'until', so every later decision has one")
    for i in range(1, len(regimes)):
        prev, cur = regimes[i - 1], regimes[i]
        if prev.ends is None or cur.starts is None:
            fail(i, f"overlaps {where[i - 1]}: only the first regime may omit 'from'")
        if cur.starts <= prev.ends:
            fail(i, f"overlaps {where[i - 1]}, which runs until {prev.ends}")
        if cur.starts > prev.ends + timedelta(days=1):
            fail(i, f"leaves a gap after {where[i - 1]}, which ends {prev.ends}")
    return tuple(regimes)


def _measure(t: _Table, domains: Domains) -> rp.Measure:
    code = t.code()
    scope, refs = _domains(t, "domains", domains, ("all", "records"))
    runs = t.choice("runs", rp.RUNS, "duration")
    months = t.count("months", 1) if runs == "months" else t.opt_count("months", 1)
    if runs != "months" and months is not None:
        t.fail("'months' is only for runs = \"months\"")
    effect = t.choice("effect", rp.EFFECTS, "effect")
    basis = t.text("basis")
    return rp.Measure(code, t.text("title"), effect, scope, refs, runs, months, basis, **t.marks())


def _list(t: _Table, measures: Measures) -> rp.ListRule:
    code = t.code()
    subjects = t.strings("subjects")
    if not subjects or not set(subjects) <= set(rp.SUBJECT_TYPES):
        t.fail(f"'subjects' must name subject types among {', '.join(rp.SUBJECT_TYPES)}")
    refs = t.refs("measures", measures, "measure")
    _use_measures(t, refs, measures, ("while_listed", "months"), "a list")
    for ref in refs:
        if measures[ref].scope == "records":
            t.fail(f"measure '{ref}' has domains = \"records\", which a list cannot use")
    severity = t.choice("severity", rp.SEVERITIES, "severity class")
    default, low, high = (t.opt_count(k, 1) for k in _TERMS)
    if low is not None and high is not None and low > high:
        t.fail(f"min_months {low} is above max_months {high}")
    if default is not None and not (low or default) <= default <= (high or default):
        t.fail(f"default_months {default} is outside min_months..max_months")
    reaches = t.strings("reaches", required=False)
    for rel in reaches:
        if rel not in rp.RELATIONS:
            t.fail(f"unknown relation '{rel}' in 'reaches' (use {', '.join(rp.RELATIONS)})")
    title, basis = t.text("title"), t.text("basis")
    return rp.ListRule(
        code, title, basis, subjects, refs, severity, default, low, high, reaches, **t.marks()
    )


def _trigger(
    t: _Table,
    categories: Mapping[str, str],
    domains: Domains,
    measures: Measures,
) -> rp.Trigger:
    code = t.code()
    cats = t.strings("categories", required=False)
    for cat in cats:
        if cat not in categories:
            t.fail(f"category '{cat}' is not in [severity.categories]")
    fine = t.yuan("min_fine_yuan")
    if not cats and fine is None:
        t.fail("needs 'categories' or 'min_fine_yuan'")
    scope, refs = _domains(t, "penalty_domains", domains, ("all",))
    m = _use_measures(
        t, t.refs("measures", measures, "measure"), measures, ("months",), "a trigger"
    )
    limit = None if scope == "all" else refs
    return rp.Trigger(code, t.text("title"), t.text("basis"), cats, fine, limit, m, **t.marks())


def _misconduct(t: _Table, domains: Domains) -> rp.MisconductCode:
    code, points = t.code(), t.count("points")
    _, refs = _domains(t, "domains", domains, ("all",))
    title, basis = t.text("title"), t.text("basis")
    return rp.MisconductCode(code, title, points, refs, basis, t.flag("forgivable"), **t.marks())


def _commendation(t: _Table) -> rp.Commendation:
    code, months, bonus = t.code(), t.opt_count("default_months", 1), t.number("bonus")
    return rp.Commendation(code, t.text("title"), t.text("basis"), bonus, months, **t.marks())


def _points(root: _Table, measures: Measures) -> rp.PointsRules:
    t = root.table("points", ("window_months", "thresholds", *_MARKS))
    window = t.count("window_months", 1)
    thresholds: list[rp.PointsThreshold] = []
    for e in t.tables("thresholds", ("min_points", "measure")):
        low = e.count("min_points", 1)
        if thresholds and low <= thresholds[-1].min_points:
            e.fail(f"thresholds must increase: min_points {low} ≤ {thresholds[-1].min_points}")
        measure = e.text("measure")
        usable = ("months", "while_points_above")
        _use_measures(e, (measure,), measures, usable, "a points threshold")
        thresholds.append(rp.PointsThreshold(low, measure))
    return rp.PointsRules(window, tuple(thresholds), **t.marks())


def _score(root: _Table) -> rp.ScoreRules:
    keys = ("base", "min", "max", "decay", "decay_months", "deductions", "levels", *_MARKS)
    t = root.table("score", keys)
    low, high, base = t.number("min"), t.number("max"), t.number("base")
    if not low < high or not low <= base <= high:
        t.fail(f"needs min < max and base within them (min {low}, base {base}, max {high})")
    decay, months = t.choice("decay", ("linear",), "decay"), t.count("decay_months", 1)
    d = t.table("deductions", ("penalty", "blacklist", "misconduct_per_point"))
    p = d.table("penalty", rp.SEVERITIES, what="severity class")
    penalty = {c: p.number(c) for c in rp.SEVERITIES}
    levels: list[rp.Level] = []
    for e in t.tables("levels", ("level", "min_score", "title")):
        name, floor = e.text("level"), e.number("min_score")
        if any(lv.level == name for lv in levels):
            e.fail(f"duplicate level '{name}'")
        if levels and floor >= levels[-1].min_score:
            e.fail(f"levels must descend: min_score {floor} ≥ {levels[-1].min_score} above it")
        if not low <= floor <= high:
            e.fail(f"min_score {floor} is outside the score's min..max")
        levels.append(rp.Level(name, floor, e.text("title", required=False)))
    if not levels or levels[-1].min_score != low:
        t.fail(f"the last of 'levels' must start at min ({low}), so every score has a level")
    blacklist, per_point = d.number("blacklist"), d.number("misconduct_per_point")
    return rp.ScoreRules(
        base, low, high, decay, months, penalty, blacklist, per_point, tuple(levels), **t.marks()
    )


def _defaults(root: _Table, domains: Domains) -> dict[str, rp.DomainDefault]:
    t = root.table("default_domains", rp.RECORD_KINDS, what="record kind")
    out: dict[str, rp.DomainDefault] = {}
    for kind in rp.RECORD_KINDS:
        by_code = ("by_code",) if kind in ("misconduct", "blacklist") else ()
        rule, refs = _domains(t, kind, domains, ("all", *by_code))
        out[kind] = rp.DomainDefault(kind, rule, refs)
    return out


def _named(root: _Table, key: str) -> dict[str, str]:
    """A table of code = "title" pairs."""
    t = root.mapping(key, required=key in _REQUIRED)
    for code in t.data:
        if not _CODE.match(code):
            t.fail(f"code {code!r}: letters, digits, '-' and '_' only")
    return {code: t.text(code) for code in t.data}


def parse_pack(data: Mapping[str, Any], source: str = "") -> rp.RulePack:
    """Validate parsed TOML and build the pack; RulePackError names the first problem."""
    root = _Table(dict(data), "rule pack", _SECTIONS, what="section")
    meta = root.table("pack", ("id", "version", "title", "effective", "notes"))
    domains = {c: rp.Domain(c, title) for c, title in _named(root, "domains").items()}
    if not domains:
        root.fail("[domains] must define at least one trading domain")
    sectors = {c: rp.Sector(c, title) for c, title in _named(root, "sectors").items()}
    categories, severity = _severity(root)
    regimes = _regimes(root, sectors)
    measures = _entries(root, "measures", lambda e: _measure(e, domains))
    lists = _entries(root, "lists", lambda e: _list(e, measures))
    triggers = _entries(root, "triggers", lambda e: _trigger(e, categories, domains, measures))
    misconduct = _entries(root, "misconduct", lambda e: _misconduct(e, domains))
    commendations = _entries(root, "commendations", _commendation)
    return rp.RulePack(
        id=meta.code("id"),
        version=meta.text("version"),
        title=meta.text("title"),
        effective=meta.day("effective"),
        notes=meta.text("notes", required=False),
        domains=domains,
        sectors=sectors,
        categories=categories,
        severity=severity,
        regimes=regimes,
        measures=measures,
        lists=lists,
        triggers=list(triggers.values()),
        misconduct=misconduct,
        points=_points(root, measures),
        commendations=commendations,
        score=_score(root),
        defaults=_defaults(root, domains),
        digest=digest(data),
        source=source,
    )


def digest(data: Mapping[str, Any]) -> str:
    """sha256 of the parsed content: a comment or layout change is not a rule change."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def resolve(name_or_path: str) -> Path:
    """The file of a pack: a bare name is a pack shipped next to this module."""
    if _SHIPPED_NAME.match(name_or_path):
        return SHIPPED / f"{name_or_path}.toml"
    return Path(name_or_path)


def read_pack(name_or_path: str) -> rp.RulePack:
    """Read, parse and validate a pack file; every error starts with the file name."""
    path = resolve(name_or_path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise RulePackError(f"rule pack {name_or_path!r}: {path} does not exist") from None
    except OSError as exc:
        raise RulePackError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RulePackError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_pack(data, str(path))
    except RulePackError as exc:
        raise RulePackError(f"{path}: {exc}") from None
