"""Columns and field values of the 双公示 administrative-penalty format (domain.md §3)."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import TypeVar

_T = TypeVar("_T")

# Current (~2020) field codes and the Chinese column names seen for them. The names are matched
# after norm() (no spaces, half-width brackets, upper case), so list each spelling once.
CURRENT_NAMES: dict[str, tuple[str, ...]] = {
    "CF_XDR_MC": ("行政相对人名称", "相对人名称", "当事人名称", "行政相对人"),
    "CF_XDR_LB": ("行政相对人类别", "相对人类别", "行政相对人类型", "相对人类型"),
    "CF_XDR_SHXYM": (
        "统一社会信用代码",
        "社会信用代码",
        "行政相对人统一社会信用代码",
        "行政相对人代码_1",
    ),
    "CF_XDR_GSZC": ("工商注册号", "工商登记号", "工商登记码"),
    "CF_XDR_ZZJG": ("组织机构代码",),
    "CF_XDR_SWDJ": ("税务登记号",),
    "CF_XDR_SYDW": ("事业单位证书号",),
    "CF_XDR_SHZZ": ("社会组织登记证号",),
    "CF_FRDB": ("法定代表人", "法定代表人姓名", "法定代表人名称"),
    "CF_FR_ZJLX": ("法定代表人证件类型",),
    "CF_FR_ZJHM": ("法定代表人证件号码", "法定代表人身份证号"),
    "CF_XDR_ZJLX": ("证件类型", "行政相对人证件类型"),
    "CF_XDR_ZJHM": ("证件号码", "行政相对人证件号码"),
    "CF_WSH": ("行政处罚决定书文号", "处罚决定书文号", "决定书文号", "决定文书号"),
    "CF_WFXW": ("违法行为类型", "违法行为"),
    "CF_SY": ("违法事实", "处罚事由"),
    "CF_YJ": ("处罚依据",),
    "CF_CFLB": ("处罚类别",),
    "CF_NR": ("处罚内容",),
    "CF_NR_FK": ("罚款金额", "罚款金额(万元)"),
    "CF_NR_WFFF": (
        "没收违法所得、没收非法财物的金额",
        "没收违法所得、没收非法财物的金额(万元)",
        "没收违法所得金额",
        "没收金额",
    ),
    "CF_NR_ZKDX": ("暂扣或吊销证照名称及编号", "暂扣或者吊销证照名称及编号"),
    "CF_JDRQ": ("处罚决定日期", "处罚日期", "决定日期", "作出处罚决定日期", "作出行政处罚决定日期"),
    "CF_YXQ": ("处罚有效期", "有效期"),
    "CF_GSJZQ": ("公示截止期", "公示截止日期"),
    "CF_CFJG": ("处罚机关", "处罚机关名称"),
    "CF_CFJGDM": ("处罚机关统一社会信用代码", "处罚机关代码"),
    "CF_SJLY": ("数据来源单位", "数据来源", "数据来源单位名称"),
    "CF_SJLYDM": ("数据来源单位统一社会信用代码", "数据来源单位代码"),
    "BZ": ("备注",),
}

# 2016 field set: legacy code -> (current code, Chinese names that only the 2016 template uses).
# CF_CFLB1 and CF_CFLB2 both land on CF_CFLB; the row mapper joins them.
LEGACY: dict[str, tuple[str, tuple[str, ...]]] = {
    "CF_XZJG": ("CF_CFJG", ()),
    "CF_XDR_ZDM": ("CF_XDR_ZZJG", ()),
    "CF_XDR_GSDJ": ("CF_XDR_GSZC", ()),
    "CF_XDR_SFZ": ("CF_XDR_ZJHM", ("居民身份证号", "身份证号", "身份证号码")),
    "CF_FR": ("CF_FRDB", ()),
    "CF_CFLB1": ("CF_CFLB", ("处罚类别1",)),
    "CF_CFLB2": ("CF_CFLB", ("处罚类别2",)),
    "CF_JG": ("CF_NR", ("处罚结果",)),
}

# Known 2016 columns the record has no place for: recognised so they are not warned as unknown.
KNOWN_UNUSED: dict[str, tuple[str, ...]] = {
    "CF_CFMC": ("案件名称",),
    "CF_ZT": ("当前状态", "状态"),
    "DFBM": ("地方编码",),
    "SJC": ("数据更新时间戳", "时间戳"),
}

REQUIRED: tuple[str, ...] = (
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_WSH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
)

# Pre-USCC organization identifiers -> key under subject.legacy_codes.
LEGACY_CODES: dict[str, str] = {
    "CF_XDR_GSZC": "business_reg",
    "CF_XDR_ZZJG": "org_code",
    "CF_XDR_SWDJ": "tax_reg",
    "CF_XDR_SYDW": "institution_cert",
    "CF_XDR_SHZZ": "social_org_cert",
}

SUBJECT_TYPES: dict[str, str] = {
    "法人及非法人组织": "organization",
    "法人和非法人组织": "organization",
    "法人": "organization",
    "非法人组织": "organization",
    "个体工商户": "individual_business",
    "自然人": "person",
}

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


def norm(name: str) -> str:
    """Normalise a column name for lookup: no BOM or spaces, half-width brackets, upper case."""
    return "".join(name.replace("\ufeff", "").split()).replace("（", "(").replace("）", ")").upper()


def _aliases() -> dict[str, str]:
    """Normalised column name -> code as found in the file (current, legacy or known-unused)."""
    table: dict[str, str] = {}
    for code, names in CURRENT_NAMES.items():
        for name in (code, *names):
            table[norm(name)] = code
    for code, (_, names) in LEGACY.items():
        for name in (code, *names):
            table[norm(name)] = code
    for code, names in KNOWN_UNUSED.items():
        for name in (code, *names):
            table[norm(name)] = code
    return table


ALIASES: dict[str, str] = _aliases()
CANONICAL: dict[str, str] = {legacy: current for legacy, (current, _) in LEGACY.items()}


def resolve(name: str) -> str | None:
    """Code a received column name stands for, as written (legacy codes not yet translated)."""
    key = norm(name)
    hit = ALIASES.get(key)
    if hit is not None or "(" not in key:
        return hit
    # Template headers read "行政相对人代码_2(工商注册号)": the bracket names the field, and the
    # numbered prefix means different things in the 2016 and 2020 templates, so try it first.
    before, _, rest = key.partition("(")
    return ALIASES.get(rest.rstrip(")")) or ALIASES.get(before)


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
