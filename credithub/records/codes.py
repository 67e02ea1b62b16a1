"""What the rule pack says of a record: its codes, lists, categories and domains exist, a
listing names a subject its list takes, and its terms lie within their statutory bounds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from credithub.rules.pack import RulePack
from credithub.rules.pack_entries import add_months


def check_codes(data: dict[str, Any], pack: RulePack, errors: dict[str, list[str]]) -> None:
    """Codes, lists, categories and domains must exist in the published rule pack."""
    kind = data["kind"]
    if data.get("categories"):
        try:
            # Older (2016) wording is mapped to the current categories here, once.
            data["categories"] = pack.normalize_categories(data["categories"])
        except ValueError as exc:
            errors.setdefault("categories", []).append(str(exc))
    if data.get("sector") and data["sector"] not in pack.sectors:
        errors.setdefault("sector", []).append(
            f"unknown sector {data['sector']!r}; one of {', '.join(sorted(pack.sectors))}"
        )
    checks: dict[str, tuple[str, Mapping[str, Any], str]] = {
        "misconduct": ("code", pack.misconduct, "misconduct code"),
        "commendation": ("code", pack.commendations, "commendation code"),
        "blacklist": ("list", pack.lists, "list code"),
    }
    if kind in checks:
        name, known, what = checks[kind]
        if data.get(name) not in known:
            errors.setdefault(name, []).append(
                f"unknown {what} {data.get(name)!r} (see /api/v1/rules)"
            )
    for domain in data.get("domains") or []:
        if domain not in pack.domains:
            errors.setdefault("domains", []).append(f"unknown domain {domain!r}")


def check_listing(
    data: dict[str, Any], pack: RulePack, errors: dict[str, list[str]], warnings: list[str]
) -> None:
    """A listing names a subject of a type its list takes (the rule pack's `subjects`); a
    peer's record is its origin's decision and is taken as sent, with a warning. A listing
    whose list reaches legal representatives says so when it names one without an ID number.
    """
    rule = pack.lists.get(data.get("list") or "") if data["kind"] == "blacklist" else None
    if rule is None:
        return
    subject = data["subject"]
    what = _SUBJECT_WORDS.get(subject.get("type"))  # None: a type the subject check refuses
    if what is not None and subject["type"] not in rule.subjects:
        takes = " or ".join(_SUBJECT_WORDS[t] for t in rule.subjects)
        message = f"list {rule.code} ({rule.title}) takes only {takes}, not {what}"
        if data.get("origin") is None:
            errors.setdefault("subject.type", []).append(message)
        else:
            warnings.append(f"subject.type: {message}; taken as its origin hub decided it")
    rep = subject.get("legal_rep")
    if rep and not rep.get("id_number") and "legal_rep" in rule.reaches:
        warnings.append(
            "subject.legal_rep: named without an ID number, so no person is linked: the "
            f"listing on {rule.code} does not reach the legal representative"
        )


_SUBJECT_WORDS = {
    "organization": "organizations",
    "individual_business": "individual businesses",
    "person": "persons",
}


def check_terms(
    data: dict[str, Any], pack: RulePack, errors: dict[str, list[str]], warnings: list[str]
) -> None:
    """A penalty's `publish_until` lies within its regime's period for its class (and sector),
    a listing's term (`listed_on` … `expires_on`) within its list's minimum and maximum, both
    ends allowed; the message names the bounds. A peer's record is its origin's decision and is
    taken as sent, with a warning."""
    found = _publication_bounds(data, pack) if data["kind"] == "penalty" else None
    if data["kind"] == "blacklist":
        found = _listing_bounds(data, pack)
    if found is None:
        return
    name, message = found
    if data.get("origin") is None:
        errors.setdefault(name, []).append(message)
    else:
        warnings.append(f"{name}: {message}; taken as its origin hub decided it")


def _between(name: str, low: date, high: date | None, why: str) -> str:
    if high is None:
        return f"{name} must lie on or after {low.isoformat()} ({why})"
    return f"{name} must lie between {low.isoformat()} and {high.isoformat()} ({why})"


def _months(low: int, high: int | None) -> str:
    return f"{low}–{high} months" if high is not None else f"at least {low} months"


def _publication_bounds(data: dict[str, Any], pack: RulePack) -> tuple[str, str] | None:
    given, decided = data.get("publish_until"), data.get("decided_on")
    if given is None or decided is None:
        return None
    try:
        severity = data.get("severity") or pack.classify_penalty(
            data.get("categories") or [], data.get("fine_yuan")
        )
        period = pack.publication(decided, severity, data.get("sector"))
    except ValueError:  # an unknown category or sector: reported by check_codes
        return None
    regime = pack.regime_for(decided)
    sector = data.get("sector")
    classes = regime.sectors[sector].classes if sector in regime.sectors else regime.classes
    rule = classes[severity]
    if period.min_until <= given and (period.max_until is None or given <= period.max_until):
        return None
    who = regime.title.split("《")[0] + (f", {sector}" if sector in regime.sectors else "")
    why = f"{who}, {severity}: {_months(rule.min_months, rule.max_months)}"
    return "publish_until", _between("publish_until", period.min_until, period.max_until, why)


def _listing_bounds(data: dict[str, Any], pack: RulePack) -> tuple[str, str] | None:
    rule = pack.lists.get(data.get("list") or "")
    ends = data.get("expires_on")
    if rule is None or ends is None or (rule.min_months is None and rule.max_months is None):
        return None
    starts = data.get("listed_on") or data.get("decided_on")
    if starts is None:
        return None
    low = add_months(starts, rule.min_months or 0)
    high = None if rule.max_months is None else add_months(starts, rule.max_months)
    if low <= ends and (high is None or ends <= high):
        return None
    term = _months(rule.min_months or 0, rule.max_months)
    why = f"list {rule.code} {rule.title}: {term} from {starts.isoformat()}"
    return "expires_on", _between("expires_on", low, high, why)
