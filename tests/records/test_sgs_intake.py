"""双公示 intake: departments send what they already produce, in every encoding and format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from credithub.db import db
from credithub.records.models import Record
from credithub.standing.models import StandingRow
from credithub.standing.service import compute_all
from tests.records.samples import (
    PERSON_ID,
    ZHUJIAN,
    make_uscc,
    penalty,
    sgs_csv,
    sgs_row,
    sgs_xlsx,
)

Headers = dict[str, str]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name="呼伦贝尔市住房和城乡建设局")


def upload(client: FlaskClient, headers: Headers, data: bytes, content_type: str) -> Any:
    return client.post(
        "/api/v1/records/sgs", data=data, headers={**headers, "Content-Type": content_type}
    )


def records(app: Flask) -> list[Record]:
    with app.app_context():
        query = select(Record).options(selectinload(Record.subject)).order_by(Record.ref)
        return list(db.session.scalars(query))


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        ("utf-8", "text/csv"),
        ("utf-8-sig", "text/csv"),
        ("gbk", "text/csv"),
        ("gb18030", "text/csv"),
        ("gbk", "application/octet-stream"),
    ],
)
def test_csv_in_each_encoding(
    app: Flask, client: FlaskClient, zhujian: Headers, encoding: str, content_type: str
) -> None:
    data = sgs_csv([sgs_row(1), sgs_row(2)], encoding)
    resp = upload(client, zhujian, data, content_type)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert any("RESOURCE_ID" in w for w in body["warnings"])
    [first, _] = records(app)
    assert first.content["fine_yuan"] == "2000.00"  # 0.2 万元, exactly
    assert first.content["categories"] == ["警告", "罚款"]
    assert first.authority_uscc == ZHUJIAN
    assert first.raw is not None
    assert first.raw["RESOURCE_ID"] == "R1"  # the extra platform column is kept
    assert first.subject.name == "呼伦贝尔市北疆建筑工程有限公司"


def test_same_rows_in_every_format_are_the_same_records(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rows = [sgs_row(1), sgs_row(2)]
    assert upload(client, zhujian, sgs_csv(rows, "gbk"), "text/csv").status_code == 200
    for data, ctype in [
        (sgs_csv(rows, "utf-8-sig"), "text/csv"),
        (sgs_xlsx(rows), XLSX),
        (json.dumps({"rows": rows}, ensure_ascii=False).encode(), "application/json"),
    ]:
        body = upload(client, zhujian, data, ctype).get_json()
        assert [r["status"] for r in body["results"]] == ["unchanged", "unchanged"], (ctype, body)


def test_xlsx_as_multipart_upload(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    resp = client.post(
        "/api/v1/records/sgs",
        headers=zhujian,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(sgs_xlsx([sgs_row(1)])), "处罚.xlsx")},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 1


def test_header_by_chinese_names_and_2016_field_set(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    chinese = {
        "行政相对人名称": "呼伦贝尔市北疆建筑工程有限公司",
        "行政相对人类别": "法人及非法人组织",
        "统一社会信用代码": "91230500MA1B3N1N2M",
        "行政处罚决定书文号": "呼住建罚〔2026〕7号",
        "违法行为类型": "违规",
        "违法事实": "事实",
        "处罚依据": "依据",
        "处罚类别": "罚款",
        "处罚内容": "罚款",
        "罚款金额": "1.5",
        "处罚决定日期": "2026-03-02",
        "处罚有效期": "2027-03-02",
        "处罚机关": "住建局",
        "处罚机关统一社会信用代码": ZHUJIAN,
        "数据来源单位": "住建局",
        "数据来源单位统一社会信用代码": ZHUJIAN,
    }
    legacy = {
        "CF_XDR_MC": "四川蜀道路桥建设有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": "91512081MA62K0260E",
        "CF_FR": "李四",
        "CF_WSH": "旧〔2019〕1号",
        "CF_WFXW": "违规",
        "CF_SY": "事实",
        "CF_YJ": "依据",
        "CF_CFLB1": "警告",
        "CF_CFLB2": "罚款",
        "CF_JG": "警告并罚款",
        "CF_NR_FK": "0.5",
        "CF_JDRQ": "2019-06-01",
        "CF_YXQ": "2020-06-01",
        "CF_XZJG": "住建局",
        "CF_CFJGDM": ZHUJIAN,
        "CF_SJLY": "住建局",
        "CF_SJLYDM": ZHUJIAN,
    }
    for row, ref in ((chinese, "呼住建罚〔2026〕7号"), (legacy, "旧〔2019〕1号")):
        body = upload(client, zhujian, sgs_csv([row], "gbk"), "text/csv").get_json()
        assert body["results"][0]["status"] == "created", body
        got = next(r for r in records(app) if r.ref == ref)
        assert got.content["fine_yuan"] == ("15000.00" if ref.startswith("呼") else "5000.00")
    old = next(r for r in records(app) if r.ref == "旧〔2019〕1号")
    assert old.content["categories"] == ["警告", "罚款"]
    assert old.content["content"] == "警告并罚款"


def test_bad_rows_are_rejected_by_field_code(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rows = [
        sgs_row(1),
        sgs_row(2, CF_JDRQ="2099-01-01"),
        sgs_row(3, CF_NR_FK="-1"),
        sgs_row(4, CF_CFLB="罚金"),
        sgs_row(5, CF_XDR_SHXYM="91230500MA1B3N1N2X"),
        sgs_row(6, CF_XDR_LB="个体工商户"),  # a 91 code declared as an individual business
        sgs_row(7, CF_WSH=""),
    ]
    body = upload(client, zhujian, sgs_csv(rows, "gbk"), "text/csv").get_json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created"] + ["rejected"] * 6
    expected = ["CF_JDRQ", "CF_NR_FK", "CF_CFLB", "CF_XDR_SHXYM", "CF_XDR_SHXYM", "CF_WSH"]
    for result, code in zip(body["results"][1:], expected, strict=True):
        assert code in result["errors"], result
    assert [r["index"] for r in body["results"]] == list(range(7))
    assert len(records(app)) == 1


def test_department_may_not_import_another_authoritys_rows(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    from tests.records.samples import CAIZHENG

    other = make_token("department", uscc=CAIZHENG)
    body = upload(client, other, sgs_csv([sgs_row(1)]), "text/csv").get_json()
    assert body["results"][0]["status"] == "rejected"
    assert "CF_CFJGDM" in body["results"][0]["errors"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        ("名称,颜色\n甲,红\n".encode("gbk"), "no known"),
        (
            sgs_csv([sgs_row(1)], "utf-8")
            + "\n".join([",".join(sgs_row(2).values())]).encode("gbk"),
            "",
        ),
        (sgs_xlsx([sgs_row(1)])[:300], ""),
        (b'{"rows": 5}', ""),
    ],
)
def test_unreadable_files_are_422_and_change_nothing(
    app: Flask, client: FlaskClient, zhujian: Headers, data: bytes, says: str
) -> None:
    resp = upload(
        client, zhujian, data, "text/csv" if not data.startswith(b"{") else "application/json"
    )
    assert resp.status_code in (400, 422), resp.get_json()
    body = resp.get_json()
    assert says in json.dumps(body, ensure_ascii=False)
    assert records(app) == []


def test_truncated_csv_row_is_rejected(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    data = sgs_csv([sgs_row(1), sgs_row(2)], "gbk")
    cut = data[: data.rindex(b",", 0, len(data) - 40)] + b"\r\n"
    body = upload(client, zhujian, cut, "text/csv").get_json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]


def test_upload_limits(
    app_factory: Callable[..., Flask], client: FlaskClient, zhujian: Headers
) -> None:
    many = sgs_csv([sgs_row(i) for i in range(5001)])
    resp = upload(client, zhujian, many, "text/csv")
    assert resp.status_code == 422
    assert "credithub import" in resp.get_json()["message"]
    small = app_factory(server={"max_body_mb": 1})
    huge = upload(small.test_client(), zhujian, b"x" * (2 * 1024 * 1024), "text/csv")
    assert huge.status_code == 413


def test_an_xlsx_over_the_row_cap_is_refused_before_its_other_rows_are_read(
    client: FlaskClient, zhujian: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schemas.sgs_read

    row = sgs_row(1)
    many = sgs_xlsx([row] * 6_000)
    cells = 0
    cell_text = schemas.sgs_read.cell_text

    def counted(value: object) -> str:
        nonlocal cells
        cells += 1
        return cell_text(value)

    monkeypatch.setattr(schemas.sgs_read, "cell_text", counted)
    resp = upload(client, zhujian, many, XLSX)
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"file": ["more than 5000 rows"]}
    assert "credithub import" in resp.get_json()["message"]
    # The header and 5,001 rows were read, not the 6,000.
    assert cells == len(row) * (1 + 5_001)


def test_cli_import_with_progress_summary_and_report(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    make_token: Callable[..., Headers],
    tmp_path: Path,
) -> None:
    zhujian = make_token("department", uscc=ZHUJIAN, name="zhujian")
    rows = [sgs_row(i) for i in range(1, 8)] + [
        sgs_row(8, CF_JDRQ="2099-01-01", CF_SY='=HYPERLINK("http://evil.example","x")')
    ]
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(sgs_csv(rows, "gbk"))
    report = tmp_path / "rejected.csv"
    result = run_cli(
        "import", str(path), "--client", "zhujian", "--report", str(report), "--batch-size", "3"
    )
    assert result.exit_code == 0, result.output
    assert "rows 8: created 7, updated 0, unchanged 0, rejected 1" in result.output
    # One numbering: the eighth data row is index 7, in the summary, the report and the API.
    assert "  index 7: CF_JDRQ" in result.output
    with report.open(encoding="utf-8-sig") as fh:
        reported = list(csv.DictReader(fh))
    assert len(reported) == 1
    assert reported[0]["序号 index"] == "7"
    assert reported[0]["CF_WSH"] == "呼住建罚〔2026〕8号"
    assert "CF_JDRQ" in reported[0]["错误 errors"]
    # Opened in a spreadsheet at the department, a cell is text, never a formula it runs.
    assert reported[0]["CF_SY"] == '\'=HYPERLINK("http://evil.example","x")'
    assert report.stat().st_mode & 0o777 == 0o600  # rejected rows carry personal data
    rerun = run_cli("import", str(path), "--client", "zhujian")
    assert "created 0, updated 0, unchanged 7, rejected 1" in rerun.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)) == 7
    answer = upload(client, zhujian, path.read_bytes(), "text/csv").get_json()
    assert [r["index"] for r in answer["results"] if r["status"] == "rejected"] == [7]


def test_an_imports_standings_are_those_its_stored_records_give(
    app: Flask,
    client: FlaskClient,
    run_cli: Callable[..., Any],
    make_token: Callable[..., Headers],
    tmp_path: Path,
) -> None:
    """The import's worker computes new subjects' standings ahead; whichever way a standing
    was made, it is the one the stored records give."""
    zhujian = make_token("department", uscc=ZHUJIAN, name="zhujian")
    known = make_uscc("91150700", "K0000001")
    earlier = {**penalty("呼住建罚〔2025〕1号", uscc=known), "fine_yuan": "3000000.00"}
    resp = client.post("/api/v1/records", json={"records": [earlier]}, headers=zhujian)
    assert resp.get_json()["accepted"] == 1
    twice = make_uscc("91150700", "T0000001")
    rows = [
        sgs_row(1, uscc=make_uscc("91150700", "A0000001")),
        sgs_row(2, uscc=twice),
        sgs_row(3, uscc=twice, CF_NR_FK="500"),  # 500 万元
        sgs_row(4, uscc=known),  # a subject the hub knows
        sgs_row(5, uscc=make_uscc("91150700", "R0000001"), CF_FR_ZJHM=PERSON_ID),
        sgs_row(6, CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=PERSON_ID, CF_FRDB=""),
        sgs_row(2, uscc=twice, CF_NR_FK="1"),  # corrects row 2 in the same batch
    ]
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(sgs_csv([{"CF_FR_ZJHM": "", "CF_XDR_ZJHM": "", **r} for r in rows], "gbk"))
    result = run_cli("import", str(path), "--client", "zhujian")
    assert "created 6, updated 1" in result.output, result.output

    with app.app_context():
        stored = {s.subject_id: s for s in db.session.scalars(select(StandingRow))}
        assert len(stored) == 5  # four organizations (one known before) and a person
        for sid, row in stored.items():
            [(standing, related, _)] = compute_all(db.session, [sid], row.computed_at).values()
            assert row.data == {**standing.to_dict(), "related": related}, sid


def test_cli_import_of_a_damaged_file_takes_nothing(
    app: Flask, run_cli: Callable[..., Any], make_token: Callable[..., Headers], tmp_path: Path
) -> None:
    make_token("department", uscc=ZHUJIAN, name="zhujian")
    # The damage is in the last batch: a cell beyond what any CSV reader accepts.
    rows = [sgs_row(i) for i in range(1, 6)] + [sgs_row(6, CF_SY="违" * 200_000)]
    path = tmp_path / "处罚信息.csv"
    path.write_bytes(sgs_csv(rows, "gbk"))
    result = run_cli("import", str(path), "--client", "zhujian", "--batch-size", "2")
    assert result.exit_code != 0
    assert "CSV cannot be read" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)) == 0


def test_cli_import_refuses_unknown_or_read_only_client(
    run_cli: Callable[..., Any], make_token: Callable[..., Headers], tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(sgs_csv([sgs_row(1)]))
    assert "no client" in run_cli("import", str(path), "--client", "ghost").output
    make_token("consumer", name="reader")
    assert "may not write" in run_cli("import", str(path), "--client", "reader").output
