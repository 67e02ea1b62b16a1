"""Objections and repairs tell the client that filed them and the deciding department, at
their webhooks (api.md: Notifications), signed, each step once; nobody else hears of them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks.webhooks import WebhookVerificationError

from credithub import clock
from credithub.webhooks.delivery import deliver_due
from tests.webhooks.receiver import Received, Receiver, receiving
from tests.workflows.helpers import (
    Headers,
    MakeToken,
    check,
    listing,
    penalty,
    post,
    push,
    tokens,
)


def _subscribe(client: FlaskClient, headers: Headers, url: str) -> str:
    body = {"url": url, "events": ["objection.updated", "repair.updated"]}
    resp = client.post("/api/v1/webhooks", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["secret"])


def _told(app: Flask, receiver: Receiver, secrets: dict[str, str]) -> list[tuple[str, Any]]:
    """Deliver what is due; (whose webhook, verified body) of each event that arrived."""
    with app.app_context():
        assert deliver_due().failed == 0
    told = []
    for got in receiver.received:  # whose it is: the one secret whose signature verifies
        verified = [(name, _verified(got, s)) for name, s in secrets.items()]
        [(name, body)] = [(name, body) for name, body in verified if body is not None]
        told.append((name, body))
    receiver.received.clear()
    return sorted(told, key=lambda t: (t[0], str(t[1])))


def _verified(got: Received, secret: str) -> Any:
    try:
        return got.verified(secret)
    except WebhookVerificationError:
        return None


def test_each_step_is_told_to_the_filer_and_the_deciding_department_only(
    app: Flask, client: FlaskClient, make_token: MakeToken
) -> None:
    t = tokens(make_token)
    with receiving() as receiver, clock.travel("2026-06-10T10:00:00+08:00"):
        secrets = {
            name: _subscribe(client, t[name], receiver.url)
            for name in ("admin", "zhujian", "caizheng")  # caizheng: not its record
        }
        record_id = push(client, t["zhujian"], listing(on="2026-06-01"))
        body = {"record_id": record_id, "applicant": "四川蜀道路桥建设有限公司", "reason": "有误"}
        code, filed = post(client, "/api/v1/objections", t["admin"], body)
        assert code == 201, filed
        told = _told(app, receiver, secrets)
        # Filed by the office, so accepted at once: two steps, each told to both.
        assert [(name, e["objection"]["step"]) for name, e in told] == [
            ("admin", "accepted"),
            ("admin", "filed"),
            ("zhujian", "accepted"),
            ("zhujian", "filed"),
        ]
        for _, event in told:
            assert event["type"] == "objection.updated"
            assert event["objection"]["id"] == filed["id"]
            assert event["objection"]["record_id"] == record_id

        post(client, f"/api/v1/objections/{filed['id']}/forward", t["admin"])
        decision = {"outcome": "upheld", "note": "维持"}
        code, _ = post(client, f"/api/v1/objections/{filed['id']}/decision", t["zhujian"], decision)
        assert code == 200
        told = _told(app, receiver, secrets)
        decided = [e for name, e in told if e["objection"]["step"] == "decided"]
        assert len(decided) == 2  # the office that filed it, the department that decided
        assert {e["objection"]["outcome"] for e in decided} == {"upheld"}
        assert "caizheng" not in {name for name, _ in told}

        # A repair the department files itself: told to it once (filer and decider alike).
        minor = push(client, t["zhujian"], penalty("呼住建罚〔2026〕40号", "2026-06-09", ["警告"]))
        code, repair = post(
            client, "/api/v1/repairs", t["zhujian"], {"record_id": minor, "commitment": True}
        )
        assert code == 201, repair
        told = _told(app, receiver, secrets)
        assert [(name, e["type"], e["repair"]["step"]) for name, e in told] == [
            ("zhujian", "repair.updated", "filed")
        ]


def test_an_approved_repair_tells_the_consumer_that_checked_the_bidder(
    app: Flask, client: FlaskClient, make_token: MakeToken
) -> None:
    """A repair lifts the measures: the platform that checked the bidder hears the verdict
    change once (check.changed), as it does for a listing or a revocation."""
    t = tokens(make_token)
    with receiving() as receiver, clock.travel("2027-06-10T10:00:00+08:00"):
        body = {"url": receiver.url, "events": ["check.changed"]}
        resp = client.post("/api/v1/webhooks", json=body, headers=t["bidding"])
        secret = resp.get_json()["secret"]
        record_id = push(client, t["zhujian"], listing(on="2026-06-01"))
        assert check(client, t["bidding"])["verdict"] == "barred"
        app.extensions["credithub.check_log"].flush()  # the worker's writer, within a second
        code, repair = post(
            client, "/api/v1/repairs", t["zhujian"], {"record_id": record_id, "commitment": True}
        )
        assert code == 201, repair
        decision = {"outcome": "approved", "note": "已履行"}
        code, _ = post(client, f"/api/v1/repairs/{repair['id']}/decision", t["zhujian"], decision)
        assert code == 200
        assert check(client, t["bidding"])["verdict"] == "clear"
        with app.app_context():
            assert deliver_due().delivered == 1
        [got] = receiver.received
        event = got.verified(secret)
        assert (event["type"], event["domain"], event["verdict"], event["previous"]) == (
            "check.changed", "construction", "clear", "barred",
        )  # fmt: skip


def test_a_public_filing_is_told_to_the_deciding_department_only(
    app: Flask, client: FlaskClient, make_token: MakeToken
) -> None:
    """A filing from the public page has no client behind it: a client that happens to be
    named like the public filer hears nothing of it."""
    t = tokens(make_token)
    namesake = make_token("consumer", name="public")
    with receiving() as receiver, clock.travel("2026-06-10T10:00:00+08:00"):
        secrets = {
            "zhujian": _subscribe(client, t["zhujian"], receiver.url),
            "namesake": _subscribe(client, namesake, receiver.url),
        }
        record_id = push(client, t["zhujian"], listing(on="2026-06-01"))
        body = {"record_id": record_id, "applicant": "蜀道路桥", "reason": "有误"}
        code, filed = post(
            client, "/api/v1/public/objections", None, body | {"contact": {"phone": "13800000000"}}
        )
        assert code == 201, filed
        told = _told(app, receiver, secrets)
        assert [(name, e["objection"]["step"]) for name, e in told] == [("zhujian", "filed")]


def test_a_public_repair_is_told_to_the_deciding_department_only(
    app: Flask, client: FlaskClient, make_token: MakeToken
) -> None:
    t = tokens(make_token)
    namesake = make_token("consumer", name="public")
    with receiving() as receiver, clock.travel("2027-06-10T10:00:00+08:00"):
        secrets = {
            "zhujian": _subscribe(client, t["zhujian"], receiver.url),
            "namesake": _subscribe(client, namesake, receiver.url),
        }
        record_id = push(client, t["zhujian"], listing(on="2026-06-01"))
        body = {"record_id": record_id, "applicant": "蜀道路桥", "commitment": True,
                "contact": {"phone": "13800000000"}}  # fmt: skip
        code, filed = post(client, "/api/v1/public/repairs", None, body)
        assert code == 201, filed
        told = _told(app, receiver, secrets)
        assert [(name, e["repair"]["step"]) for name, e in told] == [("zhujian", "filed")]
