"""双公示 files as departments really send them (domain.md §3): the name only in a platform column,
amounts as JSON numbers, the 2016 field set without the columns the current set requires, and
personal ID numbers that the raw row kept with the record never holds in clear."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from credithub.db import db
from credithub.records.models import Record
from tests.records.samples import (
    BEIJIANG,
    CAIZHENG,
    PERSON_ID,
    SHUDAO,
    ZHUJIAN,
    make_uscc,
    sgs_csv,
    sgs_row,
)

Headers = dict[str, str]
ZHUJIAN_NAME = "呼伦贝尔市住房和城乡建设局"
CLIENT = "zhujian"  # the department's client: a short label, not its official name
MASKED = "110105********002X"


@pytest.fixture
def zhujian(make_token: Callable[..., Headers]) -> Headers:
    return make_token("department", uscc=ZHUJIAN, name=CLIENT)


def post_csv(client: FlaskClient, headers: Headers, rows: list[dict[str, str]]) -> Any:
    resp = client.post(
        "/api/v1/records/sgs",
        data=sgs_csv(rows, "gbk"),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def post_json(client: FlaskClient, headers: Headers, rows: list[dict[str, Any]]) -> Any:
    resp = client.post("/api/v1/records/sgs", json={"rows": rows}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def stored(app: Flask, ref: str) -> Record:
    with app.app_context():
        record = db.session.scalars(select(Record).where(Record.ref == ref)).one()
        record.subject  # noqa: B018 - loaded while the session is open
        return record


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


# ---------------------------------------------------------------------------------------------
# The subject's name in a platform column


def test_a_row_without_cf_xdr_mc_takes_the_name_from_comp_name(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    row = sgs_row(1, COMP_NAME="呼伦贝尔市北疆建筑工程有限公司")
    nameless = sgs_row(2, COMP_NAME="")
    for r in (row, nameless):
        del r["CF_XDR_MC"]
    body = post_csv(client, zhujian, [row, nameless])
    item, rejected = body["results"]
    assert item["status"] == "created", item
    assert rejected["errors"] == {"CF_XDR_MC": ["no CF_XDR_MC column, and COMP_NAME is empty"]}
    assert any("COMP_NAME" in w and "CF_XDR_MC" in w for w in item["warnings"]), item
    assert not any("every row will fail" in w for w in body["warnings"])
    assert stored(app, row["CF_WSH"]).subject.name == "呼伦贝尔市北疆建筑工程有限公司"


def test_an_empty_cf_xdr_mc_cell_takes_the_name_from_comp_name_in_json(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rows = [
        sgs_row(1, CF_XDR_MC="", COMP_NAME="呼伦贝尔市北疆建筑工程有限公司"),
        sgs_row(2, CF_XDR_MC="", COMP_NAME=""),  # no name anywhere: rejected, with the reason
    ]
    body = post_json(client, zhujian, rows)
    assert statuses(body) == ["created", "rejected"]
    assert any("COMP_NAME" in w for w in body["results"][0]["warnings"])
    assert body["results"][1]["errors"]["CF_XDR_MC"] == ["required value is empty"]


# ---------------------------------------------------------------------------------------------
# Amounts as JSON numbers or as text


def test_amounts_as_json_numbers_or_text_store_the_same_value(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    as_numbers: dict[str, Any] = {**sgs_row(1), "CF_NR_FK": 0.2, "CF_NR_WFFF": 12}
    as_text = {**sgs_row(1), "CF_NR_FK": "0.2", "CF_NR_WFFF": "12"}
    assert statuses(post_json(client, zhujian, [as_numbers])) == ["created"]
    record = stored(app, as_text["CF_WSH"])
    assert (record.content["fine_yuan"], record.content["confiscated_yuan"]) == (
        "2000.00",
        "120000.00",
    )
    assert statuses(post_json(client, zhujian, [as_text])) == ["unchanged"]
    assert statuses(post_csv(client, zhujian, [as_text])) == ["unchanged"]


@pytest.mark.parametrize("amount", [True, -1, "abc", [1], {"万元": 1}, "1e3", 1e300])
def test_an_amount_that_is_no_number_rejects_its_row_alone(
    app: Flask, client: FlaskClient, zhujian: Headers, amount: Any
) -> None:
    bad: dict[str, Any] = {**sgs_row(2), "CF_NR_FK": amount}
    body = post_json(client, zhujian, [sgs_row(1), bad])
    assert statuses(body) == ["created", "rejected"]
    assert list(body["results"][1]["errors"]) == ["CF_NR_FK"]


@pytest.mark.parametrize("literal", ["Infinity", "NaN", "-Infinity"])
def test_a_body_with_a_number_json_cannot_write_is_refused_whole(
    app: Flask, client: FlaskClient, zhujian: Headers, literal: str
) -> None:
    """Infinity and NaN are not JSON (RFC 8259), though some encoders write them: the upload is
    refused as a body that is not JSON, and nothing of it is stored."""
    text = json.dumps({"rows": [sgs_row(1), {**sgs_row(2), "CF_NR_FK": 0}]}, ensure_ascii=False)
    text = text.replace('"CF_NR_FK": 0', f'"CF_NR_FK": {literal}')
    resp = client.post(
        "/api/v1/records/sgs",
        data=text.encode(),
        headers={**zhujian, "Content-Type": "application/json"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["message"] == "the body is not valid JSON"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Record)) == 0


# ---------------------------------------------------------------------------------------------
# The 2016 field set


def legacy_row(n: int, **changes: str) -> dict[str, str]:
    """A row of the 2016 template: no 类别, 处罚机关 code, 数据来源, 违法行为类型 or 有效期."""
    row = {
        "CF_XDR_MC": "呼伦贝尔市北疆建筑工程有限公司",
        "CF_XDR_SHXYM": BEIJIANG,
        "CF_XDR_ZDM": "",
        "CF_XDR_SFZ": "",
        "CF_FR": "王建军",
        "CF_WSH": f"呼住建罚〔2016〕{n}号",
        "CF_CFMC": "未取得施工许可证擅自施工案",
        "CF_SY": "未取得施工许可证擅自施工",
        "CF_YJ": "《建筑法》第六十四条",
        "CF_CFLB1": "警告",
        "CF_CFLB2": "罚款",
        "CF_JG": "警告并处罚款",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2016-09-01",
        "CF_XZJG": ZHUJIAN_NAME,
        "CF_ZT": "正常",
        "DFBM": "150700",
        "SJC": "2016-09-02 10:00:00",
    }
    row.update(changes)
    return row


LEGACY_ROWS = [
    legacy_row(1),
    legacy_row(2, CF_XDR_MC="扎兰屯市某建材经营部", CF_XDR_SHXYM=make_uscc("92150783", "M0000001")),
    legacy_row(3, CF_XDR_MC="张建国", CF_XDR_SHXYM="", CF_FR="", CF_XDR_SFZ=PERSON_ID),
    legacy_row(4, CF_XDR_MC="某机构", CF_XDR_SHXYM="", CF_FR="", CF_XDR_ZDM="MA1B3N1N2"),
]


def test_a_2016_file_is_taken_with_each_inferred_value_named(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    body = post_csv(client, zhujian, LEGACY_ROWS)
    assert statuses(body) == ["created"] * 4, body
    assert not any("every row will fail" in w for w in body["warnings"])
    kinds = ["法人及非法人组织", "个体工商户", "自然人", "法人及非法人组织"]
    for item, kind in zip(body["results"], kinds, strict=True):
        said = "\n".join(item["warnings"])
        assert f"CF_XDR_LB (行政相对人类别) inferred as {kind}" in said
        assert f"CF_CFJGDM (处罚机关 code) inferred as {ZHUJIAN}, the sending" in said
        assert f"taken to be its sender, named {ZHUJIAN_NAME}" in said
        assert "CF_CFJG (处罚机关) inferred" not in said  # the row names it
        assert f"CF_SJLY (数据来源单位) inferred as {ZHUJIAN_NAME}" in said
        assert f"CF_SJLYDM (数据来源单位 code) inferred as {ZHUJIAN}" in said
        assert "CF_WFXW (违法行为类型) is taken from CF_SY" in said
        assert "CF_YXQ (处罚有效期) unknown" in said
        assert PERSON_ID not in said

    company = stored(app, "呼住建罚〔2016〕1号")
    assert (company.authority_uscc, company.authority_name) == (ZHUJIAN, ZHUJIAN_NAME)
    assert company.content["source"] == {"name": ZHUJIAN_NAME, "uscc": ZHUJIAN}
    assert company.content["violation"] == company.content["facts"] == "未取得施工许可证擅自施工"
    assert company.content["categories"] == ["警告", "罚款"]
    assert "valid_until" not in company.content
    assert stored(app, "呼住建罚〔2016〕2号").subject.type == "individual_business"
    person = stored(app, "呼住建罚〔2016〕3号").subject
    assert (person.type, person.id_type, person.id_masked) == ("person", "id_card", MASKED)
    assert stored(app, "呼住建罚〔2016〕4号").subject.type == "organization"


def test_a_2016_row_is_rejected_only_when_it_names_another_authority_by_its_code(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    other = legacy_row(5, CF_XZJG=CAIZHENG)  # another unit's code where the name belongs
    own_code = legacy_row(6, CF_XZJG=ZHUJIAN.lower())  # the sender's own: no name given
    unnamed = legacy_row(7, CF_XZJG="")
    unknown = legacy_row(8, CF_XDR_SHXYM="", CF_XDR_MC="无证件的单位")
    body = post_csv(client, zhujian, [legacy_row(1), other, own_code, unnamed, unknown])
    assert statuses(body) == ["created", "rejected", "created", "created", "rejected"]
    [reason] = body["results"][1]["errors"]["CF_CFJG"]
    assert f"a code other than the sending department's ({ZHUJIAN})" in reason
    for ref in ("呼住建罚〔2016〕6号", "呼住建罚〔2016〕7号"):  # named by the client's name
        assert stored(app, ref).authority_name == CLIENT
    said = body["results"][3]["warnings"]
    assert f"2016 field set: CF_CFJG (处罚机关) inferred as {CLIENT}" in said
    assert "CF_XDR_LB" in body["results"][4]["errors"]


def test_a_2016_row_takes_the_authority_name_it_states(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    # A department's name in the file is its own to state: an older name, a short form.
    body = post_csv(client, zhujian, [legacy_row(1, CF_XZJG="呼伦贝尔市住建局")])
    assert statuses(body) == ["created"]
    record = stored(app, "呼住建罚〔2016〕1号")
    assert (record.authority_uscc, record.authority_name) == (ZHUJIAN, "呼伦贝尔市住建局")
    assert record.content["source"] == {"name": "呼伦贝尔市住建局", "uscc": ZHUJIAN}


def test_a_2016_file_from_no_department_is_refused_row_by_row(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    office = make_token("admin", name="联席会议办公室")
    body = post_csv(client, office, [legacy_row(1)])
    assert statuses(body) == ["rejected"]
    errors = body["results"][0]["errors"]
    assert "not sent by a department" in errors["CF_CFJGDM"][0]


def test_cli_import_of_a_2016_file(
    app: Flask, run_cli: Callable[..., Any], make_token: Callable[..., Headers], tmp_path: Path
) -> None:
    make_token("department", uscc=ZHUJIAN, name=CLIENT)
    path = tmp_path / "2016.csv"
    path.write_bytes(sgs_csv([*LEGACY_ROWS, legacy_row(5, CF_XZJG=CAIZHENG)], "gbk"))
    result = run_cli("import", str(path), "--client", CLIENT)
    assert result.exit_code == 0, result.output
    assert "rows 5: created 4, updated 0, unchanged 0, rejected 1" in result.output
    assert "index 4: CF_CFJG" in result.output
    assert stored(app, "呼住建罚〔2016〕1号").authority_uscc == ZHUJIAN


# ---------------------------------------------------------------------------------------------
# ID numbers in the raw row


def test_the_raw_row_kept_has_no_id_number_in_clear(
    app: Flask, client: FlaskClient, zhujian: Headers
) -> None:
    rows = [
        sgs_row(1, CF_FR_ZJLX="身份证", CF_FR_ZJHM=PERSON_ID, PERSON_ID=""),  # its legal rep
        sgs_row(
            2,
            CF_XDR_MC="张建国",
            CF_XDR_LB="自然人",
            CF_XDR_SHXYM="",
            CF_FRDB="",
            CF_XDR_ZJLX="身份证",
            CF_XDR_ZJHM=PERSON_ID,
            PERSON_ID=PERSON_ID,
        ),
        sgs_row(3, uscc=SHUDAO, CF_FR_ZJHM="", RESOURCE_ID=f"张建国 {PERSON_ID}", PERSON_ID=""),
    ]
    blank = dict.fromkeys(("CF_FR_ZJLX", "CF_FR_ZJHM", "CF_XDR_ZJLX", "CF_XDR_ZJHM"), "")
    body = post_csv(client, zhujian, [{**blank, **r} for r in rows])
    assert statuses(body) == ["created"] * 3, body
    with app.app_context():
        raws = {r.ref: r.raw or {} for r in db.session.scalars(select(Record))}
    assert PERSON_ID not in json.dumps(raws, ensure_ascii=False)
    assert raws[rows[0]["CF_WSH"]]["CF_FR_ZJHM"] == MASKED
    assert raws[rows[1]["CF_WSH"]]["CF_XDR_ZJHM"] == MASKED
    assert raws[rows[1]["CF_WSH"]]["PERSON_ID"] == MASKED
    assert raws[rows[2]["CF_WSH"]]["RESOURCE_ID"] == f"张建国 {MASKED}"
    assert raws[rows[0]["CF_WSH"]]["RESOURCE_ID"] == "R1"  # the rest as it came
    for item in body["results"]:
        resp = client.get(f"/api/v1/records/{item['id']}", headers=zhujian)
        assert resp.status_code == 200
        assert PERSON_ID not in resp.get_data(as_text=True)


def test_a_2016_id_column_is_kept_masked(app: Flask, client: FlaskClient, zhujian: Headers) -> None:
    person = LEGACY_ROWS[2]
    assert statuses(post_csv(client, zhujian, [person])) == ["created"]
    with app.app_context():
        [raw] = db.session.scalars(select(Record.raw)).all()
    assert raw["CF_XDR_SFZ"] == MASKED
    assert PERSON_ID not in json.dumps(raw)
