"""One 双公示 row checked and turned into a hub record by the field table (`schemas.sgs_table`),
with the work that depends only on the file's header done once per file (`RowPlan`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from schemas.common import FIRST_DAY, LAST_DAY, MAX_YUAN
from schemas.sgs_fields import (
    ABSENT,
    LICENSE,
    amount_yuan,
    license_category,
    mask_id_numbers,
    parse_date,
    show,
    split_categories,
)
from schemas.sgs_fix import Sender, infer_2016, name_from_platform, protect
from schemas.sgs_read import Misaligned
from schemas.sgs_table import (
    CURRENT_NAMES,
    FIELDS,
    ID_CODES,
    LEGACY_CODES,
    LEGACY_ONLY,
    NAME_COLUMNS,
    PLATFORM_ID_COLUMNS,
    REQUIRED,
    SUBJECT_TYPES,
    Field,
    norm,
    resolve,
)


@dataclass(slots=True)
class SgsRow:
    """One data row: the hub record built from it, or the reasons it could not be built.
    `raw` is the row as received, but with personal ID numbers masked: it may be kept."""

    index: int
    record: dict[str, Any] | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What checking a row needs from a header mapping: made once per file, not once per row."""

    single: tuple[tuple[str, str], ...]  # (column, code) for codes that one column maps to
    multi: tuple[tuple[str, tuple[str, ...]], ...]  # (code, columns) for codes several map to
    missing: dict[str, str]  # required code absent from the header -> its error message
    sfz_column: str | None  # a 2016 CF_XDR_SFZ column: its numbers are 身份证 numbers
    identity: bool  # one column per code, named by the code itself, every required one present
    legacy_format: bool  # the 2016 field set: what it lacks is inferred (sgs_fix.infer_2016)
    sender: Sender | None  # the department sending the file, if one is
    names: tuple[str, ...]  # platform columns that may carry the subject's name (COMP_NAME …)
    id_columns: tuple[str, ...]  # columns of ID numbers: masked in the raw row kept
    # Unknown columns and those of free text: any ID number in them masked in the raw row kept.
    other_columns: tuple[str, ...]

    @classmethod
    def of(cls, mapping: dict[str, str], header: Sequence[str], sender: Sender | None) -> RowPlan:
        """Build the plan of one header mapping."""
        columns: dict[str, list[str]] = {}
        for col, code in mapping.items():
            if code in CURRENT_NAMES:  # known-but-unused 2016 columns stay out of the record
                columns.setdefault(code, []).append(col)
        single = tuple((cols[0], code) for code, cols in columns.items() if len(cols) == 1)
        multi = tuple((code, tuple(cols)) for code, cols in columns.items() if len(cols) > 1)
        absent = "required column is missing from the header"
        missing = {code: absent for code in REQUIRED if code not in columns}
        sfz = next((col for col in mapping if resolve(col) == "CF_XDR_SFZ"), None)
        legacy_format = any(resolve(col) in LEGACY_ONLY for col in mapping)
        identity = not (multi or missing or legacy_format) and all(c == k for c, k in single)
        unknown = [col for col in header if col not in mapping]
        names = tuple(col for col in unknown if norm(col) in NAME_COLUMNS)
        if names and "CF_XDR_MC" in missing:
            missing["CF_XDR_MC"] = f"no CF_XDR_MC column, and {', '.join(names)} is empty"
        platform_ids = [col for col in unknown if norm(col) in PLATFORM_ID_COLUMNS]
        ids = tuple(col for col in mapping if resolve(col) in ID_CODES) + tuple(platform_ids)
        others = tuple(col for col in unknown if col not in platform_ids)
        others += tuple(col for col in mapping if resolve(col) in _FREE_TEXT_CODES)
        return cls(single, multi, missing, sfz, identity, legacy_format, sender, names, ids, others)


_PLACEHOLDERS = ABSENT - {""}
_DIGIT = re.compile(r"\d")
_REQUIRED_2016 = tuple(code for code in REQUIRED if code != "CF_YXQ")  # its end date: unknown


def _enclosing(f: Field) -> tuple[str, ...]:
    """The objects that enclose a field's value: () for the record's own fields."""
    return tuple(f.path.split(".")[:-1])


# The objects of a record, the record itself first, and how each nests in another, the innermost
# first: (its index, the index of the one that holds it, its key there).
_OBJECTS = sorted({_enclosing(f) for f in FIELDS}, key=lambda o: (len(o), o))
_NESTING = tuple((i, _OBJECTS.index(o[:-1]), o[-1]) for i, o in enumerate(_OBJECTS) if o)[::-1]
_SUBJECT = _OBJECTS.index(("subject",))
# The fields whose cell is the record's value as it is: (code, index of its object, key there).
_TEXT = tuple(
    (f.code, _OBJECTS.index(_enclosing(f)), f.path.rsplit(".", 1)[-1])
    for f in FIELDS
    if f.kind == "text"
)
_PATH = {f.code: f.path for f in FIELDS}
_NUL = "holds a NUL character (\\u0000), which no text may hold"
_BEFORE_FIRST_DAY = f"must be between {FIRST_DAY} and {LAST_DAY}"
# The record's free text (a person writes it): a resident ID number in it is kept masked.
_FREE_TEXT = frozenset({"violation", "facts", "basis", "content", "license_action", "note"})
_FREE_TEXT_CODES = frozenset(f.code for f in FIELDS if f.path in _FREE_TEXT)


def check_row(
    index: int, raw: dict[str, str], cells: dict[str, str], plan: RowPlan, day: date
) -> SgsRow:
    """`schemas.sgs.map_row` on stripped cells with the per-file work already done."""
    if isinstance(raw, Misaligned):
        msg = f"row has {raw.cells} cells, the header {raw.expected}: truncated or misaligned"
        return SgsRow(index, None, {"_row": [msg]}, [], protect(raw, plan.id_columns, list(raw)))
    if nul := [col for col, s in cells.items() if "\x00" in s or "\x00" in col]:
        # PostgreSQL text cannot hold NUL: the row is refused, never stored or passed on.
        refused = {col.replace("\x00", "\\0"): [_NUL] for col in nul}
        clean = {k.replace("\x00", ""): v.replace("\x00", "") for k, v in raw.items()}
        return SgsRow(index, None, refused, [], protect(clean, plan.id_columns, list(clean)))
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    get = cells.get
    # v: field code -> value, where an empty value means absent. A header of current codes is
    # the usual machine export; its rows are their own table unless a placeholder needs blanking.
    if plan.identity and _PLACEHOLDERS.isdisjoint(cells.values()) and cells.get("CF_XDR_MC"):
        v = cells
    else:
        v = {code: s for col, code in plan.single if (s := get(col, "")) not in ABSENT}
        for code, cols in plan.multi:
            values = [s for col in cols if (s := get(col, "")) not in ABSENT]
            if code == "CF_CFLB" and values:
                v[code] = ";".join(values)  # 2016 CF_CFLB1 + CF_CFLB2
            elif len(set(values)) > 1:  # not echoed: the field may hold ID numbers
                errors[code] = ["two columns map to this field with different values"]
            elif values:
                v[code] = values[0]
        if plan.names and not v.get("CF_XDR_MC"):
            name_from_platform(v, cells, plan.names, warnings)
        if plan.legacy_format:
            infer_2016(v, plan.sender, errors, warnings)
    required = _REQUIRED_2016 if plan.legacy_format else REQUIRED
    if not all(map(v.get, required)):
        for code in required:
            if not v.get(code) and code not in errors:
                errors[code] = [plan.missing.get(code) or "required value is empty"]
    kept = protect(raw, plan.id_columns, plan.other_columns)

    kind = v.get("CF_XDR_LB")
    subject_type = SUBJECT_TYPES.get(kind) if kind else None
    if kind and subject_type is None:
        errors["CF_XDR_LB"] = [
            f"unknown 行政相对人类别 {show(kind)}: expected 法人及非法人组织, 个体工商户 or 自然人"
        ]
    if subject_type == "person":
        if not v.get("CF_XDR_ZJHM"):
            errors["CF_XDR_ZJHM"] = ["a natural person needs an ID number (证件号码)"]
    elif subject_type and not v.get("CF_XDR_SHXYM") and not any(map(v.get, LEGACY_CODES)):
        errors["CF_XDR_SHXYM"] = [
            "an organization or individual business needs a unified social credit code or a "
            "legacy code (工商注册号, 组织机构代码, 税务登记号, 事业单位证书号, 社会组织登记证号)"
        ]
    ref = v.get("CF_WSH")
    if ref and len(ref) > 128:
        errors["CF_WSH"] = ["longer than 128 characters"]

    decided = _date(v, "CF_JDRQ", errors)
    if decided and decided[0] > day:
        errors["CF_JDRQ"] = [f"decision date {decided[1]} is in the future"]
    valid_until = None
    text = v.get("CF_YXQ")
    if text:
        valid_until = parse_date(text)
        if valid_until is None and _DIGIT.search(text):  # no digits: "长期" etc., no end date
            errors["CF_YXQ"] = [f"not a date (expected YYYY-MM-DD or 长期): {show(text)}"]
        elif valid_until is not None and valid_until[0] > LAST_DAY:
            # 9999-12-31 and the like: how many systems write 长期 (no end date).
            warnings.append(f"CF_YXQ {valid_until[1]} is past {LAST_DAY}: read as 长期")
            valid_until = None
        elif valid_until is not None and valid_until[0] < FIRST_DAY:
            errors["CF_YXQ"] = [_BEFORE_FIRST_DAY]
    publish_until = _date(v, "CF_GSJZQ", errors)
    if decided:
        if valid_until and valid_until[0] < decided[0]:
            errors["CF_YXQ"] = [f"{valid_until[1]} is before the decision date (CF_JDRQ)"]
        if publish_until and publish_until[0] < decided[0]:
            errors["CF_GSJZQ"] = [f"{publish_until[1]} is before the decision date (CF_JDRQ)"]
    typed: dict[str, Any] = {
        "CF_NR_FK": _amount(v, "CF_NR_FK", errors),
        "CF_NR_WFFF": _amount(v, "CF_NR_WFFF", errors),
        "CF_CFLB": _categories(v, errors, warnings),
    }
    if "罚款" in typed["CF_CFLB"] and not v.get("CF_NR_FK"):
        warnings.append("处罚类别 includes 罚款 but CF_NR_FK (fine in 万元) is empty")
    if errors or decided is None or subject_type is None:
        if errors and plan.id_columns:
            _hide([cells[c] for c in plan.id_columns if cells.get(c)], errors)
        return SgsRow(index, None, errors, warnings, kept)

    typed["CF_JDRQ"] = decided[1]
    typed["CF_YXQ"] = valid_until[1] if valid_until else None
    typed["CF_GSJZQ"] = publish_until[1] if publish_until else None
    record = _record(v, subject_type, typed)
    subject = record["subject"]
    sfz = plan.sfz_column
    if sfz and "id_type" not in subject and get(sfz) == subject.get("id_number"):
        subject["id_type"] = "身份证"  # the 2016 column held 居民身份证 numbers only
    return SgsRow(index, record, errors, warnings, kept)


def _record(v: dict[str, str], subject_type: str, typed: dict[str, Any]) -> dict[str, Any]:
    """The hub record of a valid row's values, placed by the field table."""
    objects: list[dict[str, Any]] = [{} for _ in _OBJECTS]
    objects[0]["kind"] = "penalty"
    objects[_SUBJECT]["type"] = subject_type
    get = v.get
    for code, at, key in _TEXT:
        if value := get(code):
            objects[at][key] = mask_id_numbers(value) if key in _FREE_TEXT else value
    for code, value in typed.items():
        if value is not None:
            objects[0][_PATH[code]] = value
    for at, outer, key in _NESTING:
        if objects[at]:
            objects[outer][key] = objects[at]
    return objects[0]


def _hide(secrets: list[str], errors: dict[str, list[str]]) -> None:
    """Mask the row's ID numbers (a passport number too) wherever a message echoes them."""
    for code, messages in errors.items():
        for secret in secrets:
            if len(secret) >= 4:
                messages = [m.replace(secret, "<masked>") for m in messages]
        errors[code] = messages


def _date(v: dict[str, str], code: str, errors: dict[str, list[str]]) -> tuple[date, str] | None:
    """Parse a date field if present, recording an error when it is not a date."""
    text = v.get(code)
    if not text:
        return None
    parsed = parse_date(text)
    if parsed is None:
        errors[code] = [f"not a date (expected YYYY-MM-DD): {show(text)}"]
    elif not FIRST_DAY <= parsed[0] <= LAST_DAY:
        errors[code] = [f"must be between {FIRST_DAY} and {LAST_DAY}"]
        return None
    return parsed


def _amount(v: dict[str, str], code: str, errors: dict[str, list[str]]) -> str | None:
    """Convert an amount field in 万元 to yuan text if present, recording an error if invalid."""
    text = v.get(code)
    if not text:
        return None
    yuan, error = amount_yuan(text)
    if yuan is not None and Decimal(yuan) > MAX_YUAN:
        yuan, error = None, f"more than {MAX_YUAN // 10000} 万元"
    if error:
        errors[code] = [error]
    return yuan


def _categories(v: dict[str, str], errors: dict[str, list[str]], warnings: list[str]) -> list[str]:
    """Split 处罚类别 into current categories; resolve the 2016 "暂扣或者吊销" wording."""
    cell = v.get("CF_CFLB")
    if not cell:
        return []
    found, unknown = split_categories(cell)
    if unknown:
        errors["CF_CFLB"] = ["unknown 处罚类别: " + ", ".join(map(show, unknown))]
    elif not found:
        errors["CF_CFLB"] = ["required value is empty"]
    if LICENSE not in found:
        return list(found)
    actual = license_category(v.get("CF_NR", "") + "\n" + v.get("CF_NR_ZKDX", ""))
    if actual is None:
        actual = "其他"
        warnings.append(
            "2016 处罚类别 暂扣或者吊销许可证/执照: CF_NR and CF_NR_ZKDX say neither 暂扣 "
            "nor 吊销, recorded as 其他"
        )
    out: list[str] = []
    for cat in found:
        cat = actual if cat == LICENSE else cat
        if cat not in out:
            out.append(cat)
    return out
