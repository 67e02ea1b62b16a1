"""The outbox other parts write to (`webhooks.service.emit`), and deliverers working at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.clients.service import get_by_name
from credithub.db import db
from credithub.webhooks.delivery import Outcome, deliver_due
from credithub.webhooks.models import WebhookEvent
from credithub.webhooks.service import emit
from tests.webhooks.receiver import receiving

Headers = dict[str, str]


def subscribe(client: FlaskClient, headers: Headers, url: str, *events: str) -> str:
    resp = client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["secret"])


def client_id(app: Flask, name: str) -> str:
    with app.app_context():
        return get_by_name(db.session, name).id


def test_emit_writes_for_the_subscribed_webhooks_of_the_named_clients_only_on_commit(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    dept = make_token("department", uscc="11230500001755309F", name="zhujian")
    filer = make_token("consumer", name="filer")
    bystander = make_token("consumer", name="bystander")
    url = "http://127.0.0.1:9/hooks"
    subscribe(client, dept, url, "objection.updated", "repair.updated")
    subscribe(client, dept, url, "repair.updated")
    subscribe(client, filer, url, "objection.updated")
    subscribe(client, bystander, url, "objection.updated")
    named = [client_id(app, "zhujian"), client_id(app, "filer")]
    data = {"objection": {"id": "o-1", "status": "accepted"}}

    def failing_change(session: Session) -> None:
        assert emit(session, "objection.updated", named, data) == 2
        raise RuntimeError("the change failed")  # its events go with it

    with app.app_context():
        with pytest.raises(RuntimeError, match="failed"), db.transaction() as session:
            failing_change(session)
        with db.transaction() as session:
            assert emit(session, "objection.updated", named, data) == 2
            assert emit(session, "repair.updated", named, {"repair": {"id": "r-1"}}) == 2
            assert emit(session, "check.changed", named, {}) == 0  # nobody subscribed
        with pytest.raises(ValueError, match="unknown"), db.transaction() as session:
            emit(session, "record.deleted", named, {})
        events = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.type)).all()
    assert [e.type for e in events] == ["objection.updated"] * 2 + ["repair.updated"] * 2
    assert all(e.body.startswith('{"type":') for e in events)
    assert len({e.id for e in events}) == 4


@pytest.mark.parametrize("deliverers", [2])
def test_two_deliverers_at_once_send_each_event_once(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers], deliverers: int
) -> None:
    filer = make_token("consumer", name="filer")
    with receiving() as receiver:
        subscribe(client, filer, receiver.url, "objection.updated")
        filer_id = client_id(app, "filer")
        with app.app_context(), db.transaction() as session:
            for n in range(150):  # more than one claim of each deliverer
                emit(session, "objection.updated", [filer_id], {"n": n})
        outcomes: list[Outcome] = []

        def run() -> None:
            with app.app_context():
                outcomes.append(deliver_due())

        threads = [threading.Thread(target=run) for _ in range(deliverers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 150
    assert len(set(ids)) == 150
    assert sum(o.delivered for o in outcomes) == 150
    assert sorted(r.json["n"] for r in receiver.received) == list(range(150))


def test_a_revoked_client_hears_nothing(
    app: Flask, client: FlaskClient, make_token: Callable[..., Headers]
) -> None:
    from credithub.clients.service import revoke_client

    filer = make_token("consumer", name="filer")
    subscribe(client, filer, "http://127.0.0.1:9/hooks", "objection.updated")
    filer_id = client_id(app, "filer")
    with app.app_context(), db.transaction() as session:
        revoke_client(session, "filer")
    with app.app_context(), db.transaction() as session:
        assert emit(session, "objection.updated", [filer_id], {"objection": {}}) == 0
