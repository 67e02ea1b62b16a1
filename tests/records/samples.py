"""Realistic sample records and 双公示 rows for the records tests."""

from __future__ import annotations

import csv
import io
from typing import Any

from credithub.entities.identifiers import org_code_check_char, uscc_check_char

ZHUJIAN = "11230500001755309F"  # 住建局 (a real-format government USCC)


def make_uscc(prefix: str, org8: str) -> str:
    """A valid USCC from a 8-character prefix and an 8-character organization code body."""
    body = prefix + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


CAIZHENG = make_uscc("11150700", "01234567")  # 财政局
# 住建局 of another city: a peer's records name it (an authority belongs to one origin hub).
PEER_ZHUJIAN = make_uscc("11150800", "07654321")
BEIJIANG = "91230500MA1B3N1N2M"
SHUDAO = "91512081MA62K0260E"
PERSON_ID = "11010519491231002X"


def person_subject() -> dict[str, Any]:
    """A natural person as a record's subject (张建国, by ID number)."""
    return {"type": "person", "name": "张建国", "id_type": "身份证", "id_number": PERSON_ID}


def represented(uscc: str = BEIJIANG, name: str = "北疆") -> dict[str, Any]:
    """An organization as a record's subject, naming 张建国 its legal representative."""
    return {
        "type": "organization",
        "name": name,
        "uscc": uscc,
        "legal_rep": {"name": "张建国", "id_number": PERSON_ID},
    }


def penalty(
    ref: str = "呼住建罚〔2026〕12号", uscc: str = BEIJIANG, **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "penalty",
        "ref": ref,
        "subject": {"type": "organization", "name": "呼伦贝尔市北疆建筑工程有限公司", "uscc": uscc},
        "decided_on": "2026-05-01",
        "categories": ["罚款"],
        "fine_yuan": "20000.00",
        "violation": "未按规定履行安全生产管理职责",
        "facts": "施工现场未设置安全防护设施",
        "basis": "《建设工程安全生产管理条例》第六十二条",
        "content": "罚款人民币贰万元",
    }
    record.update(extra)
    return record


def serious_listing(ref: str = "呼住建黑〔2026〕9号", **extra: Any) -> dict[str, Any]:
    """A 公共资源交易领域严重失信主体 listing (`ggzy-serious`: barred in every trading domain) of
    四川蜀道路桥建设有限公司, as a department sends it."""
    record: dict[str, Any] = {
        "kind": "blacklist", "ref": ref, "decided_on": "2026-06-02", "list": "ggzy-serious",
        "listed_on": "2026-06-02", "basis": "发改法规〔2018〕457号",
        "subject": {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO},
    }  # fmt: skip
    record.update(extra)
    return record


def sgs_row(n: int = 1, uscc: str = BEIJIANG, **extra: str) -> dict[str, str]:
    row = {
        "CF_XDR_MC": "呼伦贝尔市北疆建筑工程有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": uscc,
        "CF_FRDB": "王建军",
        "CF_WSH": f"呼住建罚〔2026〕{n}号",
        "CF_WFXW": "违反建筑市场管理规定",
        "CF_SY": "未取得施工许可证擅自施工",
        "CF_YJ": "《建筑法》第六十四条",
        "CF_CFLB": "警告;罚款",
        "CF_NR": "警告并处罚款",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2026/05/01",
        "CF_YXQ": "2027-05-01",
        "CF_CFJG": "呼伦贝尔市住房和城乡建设局",
        "CF_CFJGDM": ZHUJIAN,
        "CF_SJLY": "呼伦贝尔市住房和城乡建设局",
        "CF_SJLYDM": ZHUJIAN,
        "RESOURCE_ID": f"R{n}",
    }
    row.update(extra)
    return row


def sgs_csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def sgs_xlsx(rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    header = list(rows[0])
    ws.append(header)
    for row in rows:
        ws.append([row[h] for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(n: int) -> str:
    """A valid 居民身份证号, a different one for each n below 1,000."""
    body = f"1507021980{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


# From a warning to measures: a suspension, and a fine of 200万元 or more, start a bar.
_CATEGORIES = (
    ("警告", ""),
    ("罚款", "0.5"),
    ("警告;罚款", "1.2"),
    ("暂扣许可证件", ""),
    ("责令停产停业;罚款", "1.5"),
    ("罚款", "250"),
)


def realistic_sgs_rows(count: int = 60, subjects: int = 12) -> list[dict[str, str]]:
    """双公示 rows as departments send them: each subject named several times spread through the
    file (a company renamed on its later decisions, sometimes on the same day), persons by ID
    number, organizations naming their legal representative, categories and dates varied,
    platform columns; a decision corrected further down and a row dated in the future."""
    rows = []
    for i in range(count):
        s = (i * 7) % subjects
        year, month = 2023 + i % 3, 1 + i % 12
        categories, fine = _CATEGORIES[i % len(_CATEGORIES)]
        row = sgs_row(
            i + 1,
            uscc=make_uscc("91150700", f"R{s:07d}"),
            CF_XDR_MC=f"呼伦贝尔市第{s}建筑工程有限公司" + ("（原）" if i % 5 == 0 else ""),
            CF_FRDB=f"王{s}",
            CF_FR_ZJLX="身份证",
            CF_FR_ZJHM=make_id_number(500 + s),
            CF_XDR_ZJLX="",
            CF_XDR_ZJHM="",
            CF_CFLB=categories,
            CF_NR_FK=fine,
            CF_JDRQ=f"{year}-{month:02d}-{1 + s % 5:02d}",
            CF_YXQ=f"{year + 2}-{month:02d}-01",
            COMP_NAME="",
        )
        if s % 4 == 0:  # a person
            row.update(
                CF_XDR_MC=f"张{s}", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_FRDB="",
                CF_FR_ZJLX="", CF_FR_ZJHM="", CF_XDR_ZJLX="身份证",
                CF_XDR_ZJHM=make_id_number(s),
            )  # fmt: skip
        row["COMP_NAME"] = row["CF_XDR_MC"]
        rows.append(row)
    rows[count // 2] = {**rows[3], "CF_NR_FK": "3.3"}  # decision 4 corrected further down
    rows[-1]["CF_JDRQ"] = "2099-01-01"  # in the future: rejected
    return rows
