"""What the rule pack says of a record: its codes, lists, categories and domains exist, and a
listing names a subject its list takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credithub.rules.pack import RulePack


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
