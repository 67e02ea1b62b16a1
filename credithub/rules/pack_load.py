"""Reading a rule pack: TOML in, a validated RulePack out.

Every problem stops loading with a message naming the file and the entry
(`lists[1] (gp-serious): measure 'gp-bar' is not defined`, entries counted from 0): a pack
decides who may bid, so a typo must never be silently ignored or half applied.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from credithub.db import canonical_json
from credithub.rules import pack as rp
from credithub.rules import pack_entries as pe
from credithub.rules.pack import RulePackError
from credithub.rules.pack_workflows import workflows
from credithub.rules.toml_table import CODE, Table

SHIPPED = Path(__file__).parent
_SHIPPED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MARKS = ("check", "note")
_PERIOD = ("published", "min_months", "max_months")
_REQUIRED = (
    *("pack", "domains", "severity", "publication", "measures", "lists", "misconduct"),
    *("points", "score", "limits", "default_domains", "workflows"),
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
Domains = Mapping[str, pe.Domain]
Measures = Mapping[str, pe.Measure]


def _domains(
    t: Table, key: str, domains: Domains, words: tuple[str, ...]
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
    t: Table,
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
    root: Table, key: str, build: Callable[[Table], T], attr: str = "code"
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


def _severity(root: Table) -> tuple[dict[str, str], pe.SeverityRules]:
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
    fines = pe.FineThresholds(general, serious, **f.marks())
    return categories, pe.SeverityRules(t.text("basis"), aliases, fines, **t.marks())


def _period(t: Table, base: pe.ClassPeriod | None) -> pe.ClassPeriod:
    """A class's publication period; over `base`, only the keys given change it."""
    low = t.count("min_months") if base is None else t.opt_count("min_months")
    high = t.opt_count("max_months")
    period = pe.ClassPeriod(
        published=t.flag("published", True if base is None else base.published),
        min_months=low if low is not None else base.min_months if base else 0,
        max_months=high if high is not None else base.max_months if base else None,
    )
    if period.max_months is not None and period.min_months > period.max_months:
        t.fail(f"min_months {period.min_months} is above max_months {period.max_months}")
    return period


def _regime(t: Table, sectors: Mapping[str, pe.Sector]) -> pe.Regime:
    rid = t.code("id")
    ct = t.table("classes", rp.SEVERITIES, what="severity class")
    classes = {c: _period(ct.table(c, _PERIOD), None) for c in rp.SEVERITIES}
    overrides: dict[str, pe.SectorPeriods] = {}
    st = t.mapping("sectors", required=False)
    for name in st.data:
        if name not in sectors:
            st.fail(f"sector '{name}' is not defined in [sectors]")
        s = st.table(name, (*_PERIOD, *rp.SEVERITIES, *_MARKS))
        wide = Table({k: v for k, v in s.data.items() if k in _PERIOD}, s.where, _PERIOD)
        merged = {
            c: _period(s.table(c, _PERIOD, required=False), _period(wide, classes[c]))
            for c in rp.SEVERITIES
        }
        overrides[name] = pe.SectorPeriods(name, merged, **s.marks())
    starts, ends = t.day("from"), t.day("until")
    if starts is not None and ends is not None and starts > ends:
        t.fail(f"'from' {starts} is after 'until' {ends}")
    return pe.Regime(rid, t.text("title"), starts, ends, classes, overrides, **t.marks())


def _regimes(root: Table, sectors: Mapping[str, pe.Sector]) -> tuple[pe.Regime, ...]:
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


def _measure(t: Table, domains: Domains) -> pe.Measure:
    code = t.code()
    scope, refs = _domains(t, "domains", domains, ("all", "records"))
    runs = t.choice("runs", rp.RUNS, "duration")
    months = t.count("months", 1) if runs == "months" else t.opt_count("months", 1)
    if runs != "months" and months is not None:
        t.fail("'months' is only for runs = \"months\"")
    effect = t.choice("effect", rp.EFFECTS, "effect")
    basis = t.text("basis")
    return pe.Measure(code, t.text("title"), effect, scope, refs, runs, months, basis, **t.marks())


def _list(t: Table, measures: Measures) -> pe.ListRule:
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
    return pe.ListRule(
        code, title, basis, subjects, refs, severity, default, low, high, reaches, **t.marks()
    )


def _trigger(
    t: Table,
    categories: Mapping[str, str],
    domains: Domains,
    measures: Measures,
) -> pe.Trigger:
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
    return pe.Trigger(code, t.text("title"), t.text("basis"), cats, fine, limit, m, **t.marks())


def _misconduct(t: Table, domains: Domains) -> pe.MisconductCode:
    code, points = t.code(), t.count("points")
    _, refs = _domains(t, "domains", domains, ("all",))
    title, basis = t.text("title"), t.text("basis")
    return pe.MisconductCode(code, title, points, refs, basis, t.flag("forgivable"), **t.marks())


def _commendation(t: Table) -> pe.Commendation:
    code, months, bonus = t.code(), t.opt_count("default_months", 1), t.number("bonus")
    return pe.Commendation(code, t.text("title"), t.text("basis"), bonus, months, **t.marks())


def _points(root: Table, measures: Measures) -> pe.PointsRules:
    t = root.table("points", ("window_months", "thresholds", *_MARKS))
    window = t.count("window_months", 1)
    thresholds: list[pe.PointsThreshold] = []
    for e in t.tables("thresholds", ("min_points", "measure")):
        low = e.count("min_points", 1)
        if thresholds and low <= thresholds[-1].min_points:
            e.fail(f"thresholds must increase: min_points {low} ≤ {thresholds[-1].min_points}")
        measure = e.text("measure")
        usable = ("months", "while_points_above")
        _use_measures(e, (measure,), measures, usable, "a points threshold")
        thresholds.append(pe.PointsThreshold(low, measure))
    return pe.PointsRules(window, tuple(thresholds), **t.marks())


def _score(root: Table) -> pe.ScoreRules:
    keys = ("base", "min", "max", "decay", "decay_months", "deductions", "levels", *_MARKS)
    t = root.table("score", keys)
    low, high, base = t.number("min"), t.number("max"), t.number("base")
    if not low < high or not low <= base <= high:
        t.fail(f"needs min < max and base within them (min {low}, base {base}, max {high})")
    decay, months = t.choice("decay", ("linear",), "decay"), t.count("decay_months", 1)
    d = t.table("deductions", ("penalty", "blacklist", "misconduct_per_point"))
    p = d.table("penalty", rp.SEVERITIES, what="severity class")
    penalty = {c: p.number(c) for c in rp.SEVERITIES}
    levels: list[pe.Level] = []
    for e in t.tables("levels", ("level", "min_score", "title")):
        name, floor = e.text("level"), e.number("min_score")
        if any(lv.level == name for lv in levels):
            e.fail(f"duplicate level '{name}'")
        if levels and floor >= levels[-1].min_score:
            e.fail(f"levels must descend: min_score {floor} ≥ {levels[-1].min_score} above it")
        if not low <= floor <= high:
            e.fail(f"min_score {floor} is outside the score's min..max")
        levels.append(pe.Level(name, floor, e.text("title", required=False)))
    if not levels or levels[-1].min_score != low:
        t.fail(f"the last of 'levels' must start at min ({low}), so every score has a level")
    blacklist, per_point = d.number("blacklist"), d.number("misconduct_per_point")
    return pe.ScoreRules(
        base, low, high, decay, months, penalty, blacklist, per_point, tuple(levels), **t.marks()
    )


def _limits(root: Table) -> pe.Limits:
    t = root.table("limits", ("query_years", "basis", *_MARKS))
    return pe.Limits(t.count("query_years", 1), t.text("basis"), **t.marks())


def _defaults(root: Table, domains: Domains) -> dict[str, pe.DomainDefault]:
    t = root.table("default_domains", rp.RECORD_KINDS, what="record kind")
    out: dict[str, pe.DomainDefault] = {}
    for kind in rp.RECORD_KINDS:
        by_code = ("by_code",) if kind in ("misconduct", "blacklist") else ()
        rule, refs = _domains(t, kind, domains, ("all", *by_code))
        out[kind] = pe.DomainDefault(kind, rule, refs)
    return out


def _named(root: Table, key: str) -> dict[str, str]:
    """A table of code = "title" pairs."""
    t = root.mapping(key, required=key in _REQUIRED)
    for code in t.data:
        if not CODE.match(code):
            t.fail(f"code {code!r}: letters, digits, '-' and '_' only")
    return {code: t.text(code) for code in t.data}


def parse_pack(data: Mapping[str, Any], source: str = "") -> rp.RulePack:
    """Validate parsed TOML and build the pack; RulePackError names the first problem."""
    root = Table(dict(data), "rule pack", _SECTIONS, what="section")
    meta = root.table("pack", ("id", "version", "title", "effective", "notes"))
    domains = {c: pe.Domain(c, title) for c, title in _named(root, "domains").items()}
    if not domains:
        root.fail("[domains] must define at least one trading domain")
    sectors = {c: pe.Sector(c, title) for c, title in _named(root, "sectors").items()}
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
        limits=_limits(root),
        defaults=_defaults(root, domains),
        workflows=workflows(root, lists),
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
