"""The 双公示 field table (domain.md §3): each column of the format, its Chinese names, whether it
is required, and where its value lives in a hub record.

Every mapping between the format and the hub reads this one table: the parser (`schemas.sgs`),
the intake's error names, the 前置机 file drop and the national connector (both through
`schemas.sgs_out.record_cells`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """One column of the current (~2020) field set."""

    code: str
    path: str  # where the value lives in a hub penalty record: "subject.name", "ref", ...
    kind: str  # how a cell becomes the value: text, type, date, amount, categories
    names: tuple[str, ...]  # Chinese column names, matched after norm(): list each spelling once
    required: bool = False


FIELDS: tuple[Field, ...] = (
    Field(
        "CF_XDR_MC",
        "subject.name",
        "text",
        ("行政相对人名称", "相对人名称", "当事人名称", "行政相对人"),
        True,
    ),
    Field(
        "CF_XDR_LB",
        "subject.type",
        "type",
        ("行政相对人类别", "相对人类别", "行政相对人类型", "相对人类型"),
        True,
    ),
    Field(
        "CF_XDR_SHXYM",
        "subject.uscc",
        "text",
        ("统一社会信用代码", "社会信用代码", "行政相对人统一社会信用代码", "行政相对人代码_1"),
    ),
    Field(
        "CF_XDR_GSZC",
        "subject.legacy_codes.business_reg",
        "text",
        ("工商注册号", "工商登记号", "工商登记码"),
    ),
    Field("CF_XDR_ZZJG", "subject.legacy_codes.org_code", "text", ("组织机构代码",)),
    Field("CF_XDR_SWDJ", "subject.legacy_codes.tax_reg", "text", ("税务登记号",)),
    Field("CF_XDR_SYDW", "subject.legacy_codes.institution_cert", "text", ("事业单位证书号",)),
    Field("CF_XDR_SHZZ", "subject.legacy_codes.social_org_cert", "text", ("社会组织登记证号",)),
    Field(
        "CF_FRDB",
        "subject.legal_rep.name",
        "text",
        ("法定代表人", "法定代表人姓名", "法定代表人名称"),
    ),
    Field("CF_FR_ZJLX", "subject.legal_rep.id_type", "text", ("法定代表人证件类型",)),
    Field(
        "CF_FR_ZJHM",
        "subject.legal_rep.id_number",
        "text",
        ("法定代表人证件号码", "法定代表人身份证号"),
    ),
    Field("CF_XDR_ZJLX", "subject.id_type", "text", ("证件类型", "行政相对人证件类型")),
    Field("CF_XDR_ZJHM", "subject.id_number", "text", ("证件号码", "行政相对人证件号码")),
    Field(
        "CF_WSH",
        "ref",
        "text",
        ("行政处罚决定书文号", "处罚决定书文号", "决定书文号", "决定文书号"),
        True,
    ),
    Field("CF_WFXW", "violation", "text", ("违法行为类型", "违法行为"), True),
    Field("CF_SY", "facts", "text", ("违法事实", "处罚事由"), True),
    Field("CF_YJ", "basis", "text", ("处罚依据",), True),
    Field("CF_CFLB", "categories", "categories", ("处罚类别",), True),
    Field("CF_NR", "content", "text", ("处罚内容",), True),
    Field("CF_NR_FK", "fine_yuan", "amount", ("罚款金额", "罚款金额(万元)")),
    Field(
        "CF_NR_WFFF",
        "confiscated_yuan",
        "amount",
        (
            "没收违法所得、没收非法财物的金额",
            "没收违法所得、没收非法财物的金额(万元)",
            "没收违法所得金额",
            "没收金额",
        ),
    ),
    Field(
        "CF_NR_ZKDX",
        "license_action",
        "text",
        ("暂扣或吊销证照名称及编号", "暂扣或者吊销证照名称及编号"),
    ),
    Field(
        "CF_JDRQ",
        "decided_on",
        "date",
        ("处罚决定日期", "处罚日期", "决定日期", "作出处罚决定日期", "作出行政处罚决定日期"),
        True,
    ),
    # Required, but "长期" (any text without digits) means no end date: valid_until absent.
    Field("CF_YXQ", "valid_until", "date", ("处罚有效期", "有效期"), True),
    Field("CF_GSJZQ", "publish_until", "date", ("公示截止期", "公示截止日期")),
    Field("CF_CFJG", "authority.name", "text", ("处罚机关", "处罚机关名称"), True),
    Field(
        "CF_CFJGDM", "authority.uscc", "text", ("处罚机关统一社会信用代码", "处罚机关代码"), True
    ),
    Field("CF_SJLY", "source.name", "text", ("数据来源单位", "数据来源", "数据来源单位名称"), True),
    Field(
        "CF_SJLYDM",
        "source.uscc",
        "text",
        ("数据来源单位统一社会信用代码", "数据来源单位代码"),
        True,
    ),
    Field("BZ", "note", "text", ("备注",)),
)

CURRENT_NAMES: dict[str, tuple[str, ...]] = {f.code: f.names for f in FIELDS}
REQUIRED: tuple[str, ...] = tuple(f.code for f in FIELDS if f.required)
# The hub record's field -> the column it comes from (errors are named by the column).
CODE_OF_PATH: dict[str, str] = {f.path: f.code for f in FIELDS}
# Pre-USCC organization identifiers -> key under subject.legacy_codes.
LEGACY_CODES: dict[str, str] = {
    f.code: f.path.rsplit(".", 1)[1] for f in FIELDS if f.path.startswith("subject.legacy_codes.")
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

# Platform columns that carry the subject's name where a real export leaves CF_XDR_MC out.
NAME_COLUMNS: tuple[str, ...] = ("COMP_NAME", "ENT_NAME", "CORP_NAME", "PERSON_NAME")
# Columns whose every value is a personal ID number: never kept in clear in the raw row.
ID_CODES: frozenset[str] = frozenset({"CF_XDR_ZJHM", "CF_FR_ZJHM", "CF_XDR_SFZ"})
PLATFORM_ID_COLUMNS: frozenset[str] = frozenset(
    {"PERSON_ID", "PERSONID", "SFZH", "SFZHM", "ID_CARD", "IDCARD", "ID_NUMBER"}
)

SUBJECT_TYPES: dict[str, str] = {
    "法人及非法人组织": "organization",
    "法人和非法人组织": "organization",
    "法人": "organization",
    "非法人组织": "organization",
    "个体工商户": "individual_business",
    "自然人": "person",
}
# Hub subject type -> 行政相对人类别 as the current format spells it.
SUBJECT_LABELS: dict[str, str] = {
    "organization": "法人及非法人组织",
    "individual_business": "个体工商户",
    "person": "自然人",
}
# CF_YXQ of a penalty without an end date; the parser reads a text without digits as none.
NO_END = "长期"


def norm(name: str) -> str:
    """Normalise a column name for lookup: no BOM or spaces, half-width brackets, upper case."""
    return "".join(name.replace("\ufeff", "").split()).replace("（", "(").replace("）", ")").upper()


def _aliases() -> dict[str, str]:
    """Normalised column name -> code as found in the file (current, legacy or known-unused)."""
    table: dict[str, str] = {}
    named = [
        *CURRENT_NAMES.items(),
        *((code, names) for code, (_, names) in LEGACY.items()),
        *KNOWN_UNUSED.items(),
    ]
    for code, names in named:
        for name in (code, *names):
            table[norm(name)] = code
    return table


ALIASES: dict[str, str] = _aliases()
CANONICAL: dict[str, str] = {legacy: current for legacy, (current, _) in LEGACY.items()}
# A header naming any of these is the 2016 field set: what it lacks is inferred (sgs_fix).
LEGACY_ONLY: frozenset[str] = frozenset(LEGACY) | frozenset(KNOWN_UNUSED)


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
