"""Credit repair (信用修复): refused before the rule pack's minimum period with the earliest
date named, approved after it by the deciding department; the record repaired, its measures
lifted, a `repair` change in the feed."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from tests.workflows.helpers import (
    Headers,
    MakeToken,
    audited,
    check,
    get,
    listing,
    ops,
    peer_record,
    penalty,
    post,
    push,
    stored,
)

EVIDENCE = "已全额缴纳罚款，缴款书编号 2026-0001；已完成整改"


def _apply(client: FlaskClient, headers: Headers, record_id: str, **extra: Any) -> Any:
    body = {"record_id": record_id, "commitment": True, "evidence": EVIDENCE, **extra}
    return post(client, "/api/v1/repairs", headers, body)


def test_a_serious_penalty_is_repaired_after_its_minimum_period_and_stops_restricting(
    app: Flask, client: FlaskClient, t: dict[str, Headers]
) -> None:
    # Decided 20 January 2026: 令58号 (until 2026-03-31), whose minimum period is 3 months.
    revoked_licence = penalty("呼住建罚〔2026〕3号", "2026-01-20", ["吊销许可证件"])
    with clock.travel("2026-03-01T10:00:00+08:00"):
        record_id = push(client, t["zhujian"], revoked_licence)
        assert check(client, t["bidding"], "procurement")["verdict"] == "barred"
        code, err = _apply(client, t["zhujian"], record_id)
        assert code == 422, err
        assert "2026-04-20" in err["message"]
        assert err["errors"]["eligible_on"] == ["2026-04-20"]
        assert get(client, "/api/v1/repairs", t["admin"])["total"] == 0
    with clock.travel("2026-04-20T09:00:00+08:00"):
        code, filed = _apply(client, t["zhujian"], record_id)
        assert code == 201, filed
        # Decision due in 5 working days: 21, 22, 23, 24, Monday 27 April.
        assert (filed["status"], filed["due_on"]) == ("pending", "2026-04-27")
        assert _apply(client, t["zhujian"], record_id)[0] == 409  # one pending at a time
    with clock.travel("2026-04-28T09:00:00+08:00"):
        [late] = get(client, "/api/v1/repairs?overdue=true&status=pending", t["zhujian"])["items"]
        assert (late["id"], late["overdue"]) == (filed["id"], True)
        url = f"/api/v1/repairs/{filed['id']}/decision"
        code, err = post(client, url, t["caizheng"], {"outcome": "approved"})
        assert code == 403, err  # not the deciding department: refused and audited
        assert [e.object_id for e in audited(app, "record.refused")] == [record_id]
        assert stored(app, record_id) == ("active", 1)
        code, approved = post(
            client, url, t["zhujian"], {"outcome": "approved", "note": "准予修复"}
        )
        assert code == 200, approved
        assert (approved["status"], approved["overdue"], approved["due_on"]) == (
            "approved", False, None,
        )  # fmt: skip
        steps = [(s["step"], s["by"], s["due_on"]) for s in approved["steps"]]
        assert steps == [
            ("filed", "住建局", None),
            ("approved", "住建局", "2026-04-27"),
            ("removed", "住建局", "2026-05-06"),  # 29, 30, then the May holiday, 6 May
        ]
        record = get(client, f"/api/v1/records/{record_id}", t["admin"])
        assert (record["status"], record["version"]) == ("repaired", 2)
        assert ops(app, record_id) == [(1, "upsert"), (2, "repair")]
        assert check(client, t["bidding"], "procurement")["verdict"] == "clear"
        assert post(client, url, t["zhujian"], {"outcome": "rejected"})[0] == 409  # twice
        assert _apply(client, t["zhujian"], record_id)[0] == 409  # repaired already
        assert get(client, f"/api/v1/repairs/{filed['id']}", t["zhujian"])["status"] == "approved"


def test_a_minor_record_is_repairable_at_once_and_a_listing_waits_its_lists_months(
    client: FlaskClient, t: dict[str, Headers]
) -> None:
    with clock.travel("2026-05-06T10:00:00+08:00"):
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕31号", "2026-05-06", ["警告"]))
        code, filed = _apply(client, t["admin"], minor)
        assert code == 201, filed
        listed = push(client, t["zhujian"], listing(on="2026-02-10"))
        code, err = _apply(client, t["admin"], listed)
        assert code == 422
        assert err["errors"]["eligible_on"] == ["2027-02-10"]  # 12 months on ggzy-serious
        code, rejected = post(
            client, f"/api/v1/repairs/{filed['id']}/decision", t["admin"],
            {"outcome": "rejected", "note": "未提交完整材料"},
        )  # fmt: skip
        assert code == 200
        assert [s["step"] for s in rejected["steps"]] == ["filed", "rejected"]
        assert get(client, f"/api/v1/records/{minor}", t["admin"])["status"] == "active"
        # Evidence is optional when filing (api.md): the department weighs what it has.
        body = {"record_id": minor, "commitment": True}
        code, filed = post(client, "/api/v1/repairs", t["zhujian"], body)
        assert code == 201, filed
        assert get(client, f"/api/v1/repairs/{filed['id']}", t["zhujian"])["evidence"] is None


def test_bad_repairs_get_a_clear_4xx_and_change_nothing(
    app: Flask, client: FlaskClient, t: dict[str, Headers], make_token: MakeToken
) -> None:
    with clock.travel("2026-06-10T10:00:00+08:00"):
        elsewhere = peer_record(client, make_token)
        assert _apply(client, t["admin"], elsewhere)[0] == 409  # repaired at its origin
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕32号", "2026-05-07", ["警告"]))
        code, err = _apply(client, t["zhujian"], minor, commitment=False)
        assert code == 422
        assert "commitment" in err["errors"]
        assert _apply(client, t["caizheng"], minor)[0] == 403  # not its record
        assert _apply(client, t["bidding"], minor)[0] == 403
        assert _apply(client, None, minor)[0] == 401
        assert _apply(client, t["admin"], "no-such-record")[0] == 404
        revoked = push(client, t["zhujian"], listing("呼住建黑〔2026〕11号"))
        assert (
            post(client, f"/api/v1/records/{revoked}/revoke", t["zhujian"], {"reason": "复议"})[0]
            == 200
        )
        assert _apply(client, t["admin"], revoked)[0] == 409
        commendation = {
            "kind": "commendation", "ref": "呼住建表〔2026〕1号", "decided_on": "2026-05-01",
            "code": "red-list", "subject": {"type": "organization", "name": "蜀道路桥",
                                           "uscc": "91512081MA62K0260E"},
        }  # fmt: skip
        resp = client.post(
            "/api/v1/records", json={"records": [commendation]}, headers=t["zhujian"]
        )
        [result] = resp.get_json()["results"]
        assert result["status"] == "created", result
        assert _apply(client, t["admin"], result["id"])[0] == 422  # a commendation: never
        assert (
            post(client, "/api/v1/repairs/nope/decision", t["admin"], {"outcome": "approved"})[0]
            == 404
        )
        assert stored(app, minor) == ("active", 1)
        assert stored(app, revoked) == ("revoked", 2)
        assert get(client, "/api/v1/repairs", t["admin"])["total"] == 0


def test_every_workflow_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for kind in ("objections", "repairs"):
        assert "201" in paths[f"/api/v1/{kind}"]["post"]["responses"]
        assert "Page" in str(paths[f"/api/v1/{kind}"]["get"]["responses"]["200"])
        assert f"/api/v1/{kind}/{{{kind[:-1]}_id}}" in paths
    for step in ("accept", "refuse", "forward", "decision"):
        assert f"/api/v1/objections/{{objection_id}}/{step}" in paths
    assert "/api/v1/repairs/{repair_id}/decision" in paths
    assert paths["/api/v1/public/objections"]["post"]["security"] == []  # no token
