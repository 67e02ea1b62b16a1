"""Field values of the 双公示 administrative-penalty format (domain.md §3): dates, amounts in
万元 both ways, 处罚类别, and personal ID numbers masked."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation
from typing import TypeVar

_T = TypeVar("_T")

# 行政处罚法 (2021) art. 9.
CATEGORIES: tuple[str, ...] = (
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣许可证件",
    "降低资质等级",
    "吊销许可证件",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
    "其他",
)

# Stands for the 2016 "暂扣或者吊销…" wording until the row's content says which one it was.
LICENSE = "\x00license"

# 2016 wordings that contain "、" inside one category: replaced before splitting on separators.
LEGACY_PHRASES: dict[str, str] = {
    "暂扣或者吊销许可证、暂扣或者吊销执照": LICENSE,
    "暂扣或吊销许可证、暂扣或吊销执照": LICENSE,
    "法律、行政法规规定的其他行政处罚": "其他",
    "没收违法所得、没收非法财物": "没收违法所得;没收非法财物",
}
LEGACY_PHRASE_RE = re.compile("|".join(map(re.escape, sorted(LEGACY_PHRASES, key=len)[::-1])))

# Every accepted single token -> current category (or LICENSE).
CATEGORY_TOKENS: dict[str, str] = {c: c for c in CATEGORIES} | {
    LICENSE: LICENSE,
    "暂扣或者吊销许可证": LICENSE,
    "暂扣或者吊销执照": LICENSE,
    "暂扣或吊销许可证": LICENSE,
    "暂扣或吊销执照": LICENSE,
    "吊销许可证": "吊销许可证件",
    "吊销执照": "吊销许可证件",
    "吊销营业执照": "吊销许可证件",
    "暂扣许可证": "暂扣许可证件",
    "暂扣执照": "暂扣许可证件",
    "其他行政处罚": "其他",
}

# Placeholders government exports use for "no value".
ABSENT: frozenset[str] = frozenset(
    {"", "-", "－", "—", "——", "/", "／", "无", "NULL", "null", "None", "N/A", "n/a"}
)


# ---------------------------------------------------------------------------------------------
# Field values. Each parser is cached per distinct cell text: in a real file dates, amounts and
# categories repeat a lot, and the import path must do tens of thousands of rows a second.

_ID_LIKE = re.compile(r"\d{14,17}[\dXx]")
_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DATE_CN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－＋：／", "0123456789.,-+:/")
_CATEGORY_SEP = re.compile(r"[;；,，、]")
_EITHER = re.compile(r"暂扣或者?吊销")
_CENT = Decimal("0.01")
_TEN_THOUSAND = Decimal(10000)
# Our own context: the thread's ambient one may have been narrowed by other code, and a fine
# must not be rounded by whoever ran before us.
_DECIMAL = Context(prec=40, rounding=ROUND_HALF_UP, traps=[InvalidOperation])
_EXACT = Context(prec=100, traps=[InvalidOperation, Inexact])  # moving the exponent only
_CACHE_SIZE = 4096
_DATES: dict[str, tuple[date, str] | None] = {}
_AMOUNTS: dict[str, tuple[str | None, str | None]] = {}
_CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def show(value: str) -> str:
    """Quote a received value for a message, masking anything shaped like an ID number."""
    return repr(_ID_LIKE.sub("<masked>", value[:80]))


def parse_date(text: str) -> tuple[date, str] | None:
    """(date, ISO text) of YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日 …; a time is dropped."""
    if text in _DATES:
        return _DATES[text]
    s = text if text.isascii() else text.translate(_FULL_WIDTH)
    m = _DATE.fullmatch(s)
    groups = m.group(1, 3, 4) if m else None
    if groups is None:
        m = _DATE_CN.fullmatch(s) or _DATE_COMPACT.fullmatch(s)
        groups = m.group(1, 2, 3) if m else None
    parsed = None
    if groups is not None:
        try:
            day = date(int(groups[0]), int(groups[1]), int(groups[2]))
            parsed = (day, day.isoformat())
        except ValueError:
            parsed = None
    _remember(_DATES, text, parsed)
    return parsed


def amount_yuan(text: str) -> tuple[str | None, str | None]:
    """An amount in 万元 as (yuan with two decimals, None) or (None, error); exact, no float."""
    hit = _AMOUNTS.get(text)
    if hit is not None:
        return hit
    s = text if text.isascii() else text.translate(_FULL_WIDTH)
    s = s.removesuffix("万元").strip()
    result: tuple[str | None, str | None]
    if "," in s and _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s):  # also rejects NaN, Infinity, exponents and stray commas
        result = (None, f"not a decimal number of 万元: {show(text)}")
    else:
        amount = Decimal(s)
        if amount < 0:
            result = (None, f"negative amount: {show(text)}")
        else:
            try:
                yuan = _DECIMAL.multiply(amount, _TEN_THOUSAND).quantize(_CENT, context=_DECIMAL)
                result = (f"{yuan.copy_abs():f}", None)  # "-0" must not become "-0.00"
            except InvalidOperation:
                result = (None, "amount too large")
    _remember(_AMOUNTS, text, result)
    return result


def yuan_wan(value: object) -> str:
    """An amount in yuan ("2000.00", 2000, Decimal) as exact 万元 text ("0.2"): the inverse of
    `amount_yuan`. ValueError if it is not a non-negative decimal amount."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("not a decimal amount of yuan")
    try:
        # repr is a float's shortest exact form: 0.1 stays 0.1
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
        if not amount.is_finite():
            raise ValueError("not a decimal amount of yuan")
        if amount < 0:
            raise ValueError("negative amount")
        wan = amount.scaleb(-4, _EXACT).normalize(_EXACT)
    except (InvalidOperation, Inexact):
        raise ValueError("not a decimal amount of yuan") from None
    return format(wan.copy_abs(), "f")  # "-0" must not be written


def split_categories(cell: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(known categories in order without repeats, unknown tokens) of one 处罚类别 cell."""
    hit = _CATEGORIES.get(cell)
    if hit is not None:
        return hit
    # The multi-word 2016 values contain "、" themselves: replace them before splitting.
    text = LEGACY_PHRASE_RE.sub(lambda m: LEGACY_PHRASES[m.group()], cell)
    found: list[str] = []
    unknown: list[str] = []
    for part in _CATEGORY_SEP.split(text):
        token = "".join(part.split())
        if not token:
            continue
        cat = CATEGORY_TOKENS.get(token)
        if cat is None:
            unknown.append(token)
        elif cat not in found:
            found.append(cat)
    result = (tuple(found), tuple(unknown))
    _remember(_CATEGORIES, cell, result)
    return result


def license_category(content: str) -> str | None:
    """吊销许可证件 or 暂扣许可证件, whichever the 处罚内容 text says was done; None if neither."""
    # The 2016 phrase "暂扣或者吊销…" names both actions and is often copied into CF_NR: it
    # decides nothing, so it is removed before looking.
    text = _EITHER.sub("", content)
    if "吊销" in text:
        return "吊销许可证件"
    if "暂扣" in text:
        return "暂扣许可证件"
    return None


def _remember(cache: dict[str, _T], key: str, value: _T) -> None:
    """Store in a bounded cache: a long-running server must not grow it without end."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value


# ---------------------------------------------------------------------------------------------
# Personal ID numbers (GB 11643): kept only masked outside the subject's protected columns.

_ID_RUN = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def mask_id(value: str) -> str:
    """An ID number as shown: first 6 and last 4 characters, stars between (all stars below
    15 characters, where showing 10 would hide too little)."""
    number = "".join(value.split())
    if len(number) < 15:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_id_numbers(text: str) -> str:
    """The text with every resident ID number in it masked: 18 characters with the check
    character right, or a first-generation number of 15 digits (a province code, then a birth
    date 19YYMMDD; they carry no check digit, so a 15-digit code shaped so is masked too).
    Anything else, a USCC of digits included, stays as it was."""
    if len(text) < 15 or _ID_RUN.search(text) is None:
        return text
    return _ID_RUN.sub(_masked_if_id, text)


def _masked_if_id(match: re.Match[str]) -> str:
    number = match.group()
    if len(number) == 15:
        return mask_id(number) if _old_id(number) else number
    total = sum(int(c) * w for c, w in zip(number, _ID_WEIGHTS, strict=False))
    return mask_id(number) if number[17].upper() == "10X98765432"[total % 11] else number


def _old_id(number: str) -> bool:
    """Whether 15 digits read as a first-generation resident ID number (GB 11643-1989)."""
    if not "11" <= number[:2] <= "83":
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True
