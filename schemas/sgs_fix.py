"""Departments' files as they really come (domain.md §3): the subject's name only in a platform
column, the 2016 field set without the columns the current set requires, and raw rows that
must not keep a personal ID number in clear. Each value supplied here is named in the row's
warnings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.sgs_fields import mask_id, mask_id_numbers, show
from schemas.sgs_table import SUBJECT_LABELS


@dataclass(frozen=True, slots=True)
class Sender:
    """The department that sends a file: a 2016 file's 处罚机关 and 数据来源 codes are its own."""

    name: str
    uscc: str


# What a 2016 file may lack; each is supplied row by row (see `infer_2016`).
INFERRED: tuple[str, ...] = (
    "CF_XDR_LB",
    "CF_WFXW",
    "CF_YXQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
)
# Legacy codes only organizations hold (a 工商注册号 or 税务登记号 may be an individual
# business's): the subject type follows from them.
_ORGANIZATION_CODES = ("CF_XDR_ZZJG", "CF_XDR_SYDW", "CF_XDR_SHZZ")
_ORGANIZATION = SUBJECT_LABELS["organization"]
# A unified social credit code's shape (GB 32100: 18 characters, no I, O, S, V or Z).
_USCC_SHAPED = re.compile(r"[0-9A-HJ-NP-RTUWXY]{18}")


def name_from_platform(
    v: dict[str, str], cells: dict[str, str], columns: Sequence[str], warnings: list[str]
) -> None:
    """CF_XDR_MC from the first platform name column (COMP_NAME …) that has one."""
    for column in columns:
        name = cells.get(column, "").strip()
        if name:
            v["CF_XDR_MC"] = name
            warnings.append(f"CF_XDR_MC (行政相对人名称) is empty: the name is from {column}")
            return


def infer_2016(
    v: dict[str, str],
    sender: Sender | None,
    errors: dict[str, list[str]],
    warnings: list[str],
) -> None:
    """Supply what a 2016 row lacks, as domain.md §3 says; `v` holds the row's values by current
    code (an empty value is absent). CF_YXQ stays absent: the end date is unknown."""
    if not v.get("CF_XDR_LB"):
        _subject_type(v, errors, warnings)
    if not v.get("CF_WFXW") and v.get("CF_SY"):
        v["CF_WFXW"] = v["CF_SY"]
        warnings.append("2016 field set: CF_WFXW (违法行为类型) is taken from CF_SY (违法事实)")
    if not v.get("CF_YXQ"):
        warnings.append("2016 field set: CF_YXQ (处罚有效期) unknown: recorded without an end date")
    _sender_unit(v, "CF_CFJG", "CF_CFJGDM", "处罚机关", sender, None, errors, warnings)
    # 数据来源单位 is the sender, under the name the row gives it as 处罚机关 if it does.
    own = v.get("CF_CFJG") if sender and v.get("CF_CFJGDM") == sender.uscc else None
    _sender_unit(v, "CF_SJLY", "CF_SJLYDM", "数据来源单位", sender, own, errors, warnings)


def _subject_type(v: dict[str, str], errors: dict[str, list[str]], warnings: list[str]) -> None:
    uscc = v.get("CF_XDR_SHXYM")
    if uscc:
        kind = SUBJECT_LABELS["individual_business"] if uscc[:2] == "92" else _ORGANIZATION
        why = f"the unified social credit code (it starts {show(uscc[:2])})"
    elif v.get("CF_XDR_ZJHM"):
        kind, why = SUBJECT_LABELS["person"], "the ID number"
    elif any(v.get(code) for code in _ORGANIZATION_CODES):
        kind, why = _ORGANIZATION, "the organization's legacy code"
    else:
        errors["CF_XDR_LB"] = [
            "2016 field set: 行政相对人类别 is empty and cannot be inferred: the row has no "
            "unified social credit code, ID number, 组织机构代码, 事业单位证书号 or "
            "社会组织登记证号"
        ]
        return
    v["CF_XDR_LB"] = kind
    warnings.append(f"2016 field set: CF_XDR_LB (行政相对人类别) inferred as {kind} from {why}")


def _sender_unit(
    v: dict[str, str],
    name_code: str,
    uscc_code: str,
    what: str,
    sender: Sender | None,
    known_name: str | None,
    errors: dict[str, list[str]],
    warnings: list[str],
) -> None:
    """A unit's code, absent from a 2016 row, is the sending department's: the row's unit is
    taken to be its sender, and the name the row gives it is kept as the unit's name (a
    client's name is only a label). The row is rejected only when the name cell holds a unit
    code that is not the sender's: the only way a 2016 row shows another unit for certain.
    Without a name the unit is named `known_name`, else by the sender's client name."""
    if v.get(uscc_code):
        return
    if sender is None:
        errors[uscc_code] = [
            f"2016 field set: the {what} code is absent; it is taken from the sending "
            "department, and this file was not sent by a department"
        ]
        return
    name = v.get(name_code, "")
    code = "".join(name.split()).upper()
    if _USCC_SHAPED.fullmatch(code):
        if code != sender.uscc:
            errors[name_code] = [
                f"2016 field set: {what} {show(name)} is a code other than the sending "
                f"department's ({sender.uscc}); the file carries no {what} code, so the unit "
                f"can only be the sender: send the current field set with {uscc_code}"
            ]
            return
        name = ""  # the sender's own code where its name belongs: no name given
    if not name:
        name = known_name or sender.name
        warnings.append(f"2016 field set: {name_code} ({what}) inferred as {name}")
    v[name_code] = name
    v[uscc_code] = sender.uscc
    warnings.append(
        f"2016 field set: {uscc_code} ({what} code) inferred as {sender.uscc}, the sending "
        f"department's (a 2016 row's {what} is taken to be its sender, named {name})"
    )


def protect(
    raw: dict[str, str], id_columns: Sequence[str], other_columns: Sequence[str]
) -> dict[str, str]:
    """The raw row as it may be kept: the ID columns' values masked, and any resident ID number
    in another column (a platform column such as PERSON_ID) masked too."""
    masked: dict[str, str] = {}
    for column in id_columns:
        value = raw.get(column)
        if value:
            masked[column] = mask_id(str(value))
    for column in other_columns:
        value = raw.get(column)
        if value and isinstance(value, str) and (hidden := mask_id_numbers(value)) != value:
            masked[column] = hidden
    return {**raw, **masked} if masked else raw
