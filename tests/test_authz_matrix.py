"""Who may call what: every operation of the published OpenAPI document, called by every kind of
client, answers the status the table below expects. An operation the document publishes without
a row here fails the test, so a new endpoint cannot ship without its expected rights.

Columns: no token; a revoked token; a consumer (e-tendering system); a peer hub; a department
of another authority; the department whose authority decided the records involved (own); the
joint office (admin). Rows with a note in brackets are further cases of the same operation.
A cell is the status expected, and for the record-writing operations the item's status in the
answer after a colon: `new` (created), `upd` (updated), `no` (rejected: a department's record
of another authority, a peer's record without its hub's origin).
Each call acts on objects of its own (a record, an objection, a repair, a webhook made for it),
so one client's success never changes what the next one finds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credithub.clients.service import revoke_client
from credithub.db import db
from credithub.records.prepare import today_in_china
from credithub.trust import forms
from tests.records.samples import CAIZHENG, SHUDAO, ZHUJIAN, sgs_row
from tests.signing import signer_of
from tests.workflows.helpers import listing, penalty

KINDS = ("none", "revoked", "consumer", "peer", "other", "own", "admin")

EXPECTED = """
       operation (under /api/v1)           none    revoked consumer peer   other   own     admin
GET    /entities                           401     401     200     403     200     200     200
GET    /entities/{uscc}                    401     401     200     403     200     200     200
POST   /entities/resolve                   401     401     200     403     200     200     200
GET    /records                            401     401     200     403     200     200     200
POST   /records                            401     401     403     200:no  200:no  200:new 200:new
POST   /records (correction)               401     401     403     200:no  200:no  200:upd 200:upd
POST   /records/sgs                        401     401     403     200:no  200:no  200:new 200:new
GET    /records/{record_id}                401     401     200     403     200     200     200
GET    /records/{record_id} (revoked)      401     401     404     403     404     200     200
POST   /records/{record_id}/revoke         401     401     403     403     403     200     200
GET    /rules                              200     200     200     200     200     200     200
GET    /check/{uscc}                       401     401     200     403     200     200     200
POST   /check                              401     401     200     403     200     200     200
GET    /checks                             401     401     200     403     200     200     200
POST   /checks/verify                      401     401     200     200     200     200     200
GET    /feed                               401     401     403     200     403     403     200
GET    /feed/summary                       401     401     403     200     403     403     200
GET    /feed/summary/cell                  401     401     403     200     403     403     200
POST   /feed/records                       401     401     403     200     403     403     200
GET    /hub                                200     200     200     200     200     200     200
GET    /hub/register                       200     200     200     200     200     200     200
POST   /hub/contact                        401     401     403     200     403     403     403
GET    /sync                               401     401     403     403     403     403     200
GET    /sync/refusals                      401     401     403     403     403     403     200
POST   /sync/{name}/run                    401     401     403     403     403     403     200
GET    /sync/keys                          401     401     403     403     403     403     200
POST   /sync/keys/{hub}/{key_id}/accept    401     401     403     403     403     403     404
GET    /sync/quarantine                    401     401     403     403     403     403     200
POST   /sync/quarantine/release            401     401     403     403     403     403     200
GET    /webhooks                           401     401     200     200     200     200     200
POST   /webhooks                           401     401     201     201     201     201     201
GET    /webhooks/{webhook_id}              401     401     404     404     404     200     200
DELETE /webhooks/{webhook_id}              401     401     404     404     404     204     204
GET    /objections                         401     401     403     403     200     200     200
POST   /objections                         401     401     403     403     403     201     201
GET    /objections/{objection_id}          401     401     403     403     404     200     200
POST   /objections/{objection_id}/accept   401     401     403     403     403     403     200
POST   /objections/{objection_id}/refuse   401     401     403     403     403     403     200
POST   /objections/{objection_id}/forward  401     401     403     403     403     403     200
POST   /objections/{objection_id}/decision 401     401     403     403     403     200     200
POST   /public/objections                  201     201     201     201     201     201     201
POST   /public/repairs                     201     201     201     201     201     201     201
GET    /repairs                            401     401     403     403     200     200     200
POST   /repairs                            401     401     403     403     403     201     201
GET    /repairs/{repair_id}                401     401     403     403     404     200     200
POST   /repairs/{repair_id}/decision       401     401     403     403     403     200     200
GET    /public/entities                    200     200     200     200     200     200     200
GET    /public/entities/{uscc}             200     200     200     200     200     200     200
"""

METHODS = ("get", "post", "put", "patch", "delete")
OUTCOMES = {"created": "new", "updated": "upd", "unchanged": "same", "rejected": "no"}


def expected_rows() -> dict[tuple[str, str, str], dict[str, str]]:
    """(method, path, case) → {kind: expected cell}, from the table."""
    lines = [line for line in EXPECTED.strip().splitlines()[1:] if line.strip()]
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    for line in lines:
        method, path, *rest = line.split()
        case = ""
        if rest[0].startswith("("):
            words = list(itertools.takewhile(lambda w: not w.endswith(")"), rest))
            case = " ".join([*words, rest[len(words)]]).strip("()")
            rest = rest[len(words) + 1 :]
        assert len(rest) == len(KINDS), line
        rows[(method, "/api/v1" + path, case)] = dict(zip(KINDS, rest, strict=True))
    return rows


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    data: Any = None
    content_type: str | None = None


class World:
    """The clients, and objects made fresh for each call."""

    def __init__(self, app: Flask, make_token: Callable[..., dict[str, str]]) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        revoked = make_token("department", uscc=ZHUJIAN, name="住建局旧接口")
        with app.app_context(), db.transaction() as session:
            revoke_client(session, "住建局旧接口")
        self.headers: dict[str, dict[str, str]] = {
            "none": {},
            "revoked": revoked,
            "consumer": make_token("consumer", name="bidding"),
            "peer": make_token("peer", name="province", hub="province"),
            "other": make_token("department", uscc=CAIZHENG, name="财政局"),
            "own": make_token("department", uscc=ZHUJIAN, name="住建局"),
            "admin": make_token("admin", name="联合办公室"),
        }
        self.n = itertools.count(1)
        self.today = today_in_china().isoformat()
        self.standing_record = self.record()  # for reads
        province = signer_of("province")  # the peer's hub, pinned already (conftest)
        key = {"id": province.id, "public_key": forms.b64(province.public)}
        self.hub_key = {"algorithm": "ed25519", **key, "chain": [key]}

    def send(self, kind: str, call: Call) -> Any:
        return self.client.open(
            call.path,
            method=call.method,
            json=call.json,
            data=call.data,
            content_type=call.content_type,
            headers=self.headers[kind],
        )

    def as_(self, kind: str, method: str, path: str, body: Any = None) -> Any:
        resp = self.send(kind, Call(method, path, json=body))
        assert resp.status_code < 300, (method, path, resp.status_code, resp.get_json())
        return resp.get_json()

    def new_penalty(self, minor: bool = False, on: str = "") -> dict[str, Any]:
        n = next(self.n)
        categories = ["警告"] if minor else ["罚款"]
        extra = {} if minor else {"fine_yuan": "20000.00"}
        return penalty(f"呼住建罚〔2026〕{n}号", on or self.today, categories, **extra)

    def record(self, minor: bool = False, listed: bool = False, old: bool = False) -> str:
        """A fresh record decided by the own department's authority: a penalty (minor: one
        repairable at once; old: public and past its minimum publication period) or a
        listing (public: open to objections)."""
        sent = listing(f"呼住建黑〔2026〕{next(self.n)}号", self.today) if listed else None
        long_ago = (today_in_china() - timedelta(days=400)).isoformat() if old else ""
        body = {"records": [sent or self.new_penalty(minor, long_ago)]}
        [result] = self.as_("own", "POST", "/api/v1/records", body)["results"]
        assert result["status"] == "created", result
        return str(result["id"])

    def objection(self, filed_by: str = "own") -> str:
        body = {
            "record_id": self.record(listed=True),
            "applicant": "蜀道路桥",
            "reason": "事实不清",
        }
        return str(self.as_(filed_by, "POST", "/api/v1/objections", body)["id"])

    def public_objection(self) -> str:
        body = {
            "record_id": self.record(listed=True), "applicant": "四川蜀道路桥",
            "reason": "事实不清", "contact": {"phone": "13800000000"},
        }  # fmt: skip
        return str(self.as_("none", "POST", "/api/v1/public/objections", body)["id"])

    def repair(self) -> str:
        body = {"record_id": self.record(minor=True), "commitment": True, "evidence": "已整改"}
        return str(self.as_("own", "POST", "/api/v1/repairs", body)["id"])

    def webhook(self) -> str:
        body = {"url": "https://bidding.example.cn/hooks", "events": ["check.changed"]}
        return str(self.as_("own", "POST", "/api/v1/webhooks", body)["id"])


def call_for(world: World, method: str, path: str, case: str) -> Call:
    """The request an operation is tried with: valid for the clients entitled to it."""
    w = world
    fixed = {
        "/api/v1/entities": Call("GET", f"/api/v1/entities?q={SHUDAO}"),
        "/api/v1/entities/{uscc}": Call("GET", f"/api/v1/entities/{SHUDAO}"),
        "/api/v1/entities/resolve": Call("POST", "", json={
            "type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": SHUDAO}),
        "/api/v1/records/{record_id}": Call("GET", f"/api/v1/records/{w.standing_record}"),
        "/api/v1/check/{uscc}": Call("GET", f"/api/v1/check/{SHUDAO}?domain=construction"),
        "/api/v1/check": Call("POST", "", json={"domain": "construction",
                                                 "subjects": [{"uscc": SHUDAO}]}),
        "/api/v1/checks/verify": Call("POST", "", json={
            "subject": {"uscc": SHUDAO}, "check": {"digest": "0" * 64, "asked_at": w.today}}),
        "/api/v1/feed/summary/cell": Call("GET", "/api/v1/feed/summary/cell?origin=local&month="
                                          + w.today[:7]),
        "/api/v1/feed/records": Call("POST", "", json={
            "records": [{"origin": "local", "id": w.standing_record}]}),
        "/api/v1/hub/contact": Call("POST", "", json={"key": w.hub_key}),
        "/api/v1/sync/{name}/run": Call("POST", "/api/v1/sync/province/run", json={}),
        "/api/v1/sync/keys/{hub}/{key_id}/accept": Call(
            "POST", "/api/v1/sync/keys/city-x/nokey/accept", json={}),
        "/api/v1/sync/quarantine/release": Call("POST", "", json={"ids": []}),
        "/api/v1/webhooks": Call("POST", "", json={
            "url": "https://bidding.example.cn/hooks", "events": ["check.changed"]}),
        "/api/v1/public/entities/{uscc}": Call("GET", f"/api/v1/public/entities/{SHUDAO}"),
        "/api/v1/public/entities": Call("GET", f"/api/v1/public/entities?q={SHUDAO}"),
    }  # fmt: skip
    if method == "GET" and path == "/api/v1/objections/{objection_id}":
        call = Call("GET", f"/api/v1/objections/{w.objection()}")
    elif method == "GET" and path == "/api/v1/repairs/{repair_id}":
        call = Call("GET", f"/api/v1/repairs/{w.repair()}")
    elif method == "GET" and case == "revoked":  # only the office and its decider see it
        record_id = w.record()
        w.as_("own", "POST", f"/api/v1/records/{record_id}/revoke", {"reason": "撤销"})
        call = Call("GET", f"/api/v1/records/{record_id}")
    elif method == "GET":
        call = fixed.get(path, Call("GET", path))
    elif path == "/api/v1/records" and case == "correction":
        record_id = w.record()
        stored = w.as_("admin", "GET", f"/api/v1/records/{record_id}")
        corrected = {
            **w.new_penalty(),
            "ref": stored["ref"],
            "facts": "复核后更正",
            "authority": {"name": "住建局", "uscc": ZHUJIAN},
        }
        call = Call("POST", path, json={"records": [corrected]})
    elif path == "/api/v1/records":
        call = Call("POST", path, json={"records": [{
            **w.new_penalty(), "authority": {"name": "住建局", "uscc": ZHUJIAN}}]})  # fmt: skip
    elif path == "/api/v1/records/sgs":
        call = Call("POST", path, json={"rows": [sgs_row(1000 + next(w.n), uscc=SHUDAO)]})
    elif path == "/api/v1/records/{record_id}/revoke":
        call = Call("POST", f"/api/v1/records/{w.record()}/revoke", json={"reason": "撤销"})
    elif path == "/api/v1/objections":
        call = Call(
            "POST",
            path,
            json={
                "record_id": w.record(listed=True),
                "applicant": "四川蜀道路桥",
                "reason": "事实不清",
            },
        )
    elif path.startswith("/api/v1/objections/{objection_id}/"):
        action = path.rsplit("/", 1)[1]
        oid = w.objection() if action == "decision" else w.public_objection()
        if action == "forward":  # the office accepts a public filing, then forwards it
            w.as_("admin", "POST", f"/api/v1/objections/{oid}/accept", {})
        body = {"decision": {"outcome": "upheld", "note": "事实清楚"},
                "refuse": {"reason": "不属于受理范围"}}.get(action, {})  # fmt: skip
        call = Call("POST", f"/api/v1/objections/{oid}/{action}", json=body)
    elif path == "/api/v1/public/objections":
        call = Call("POST", path, json={
            "record_id": w.record(listed=True), "applicant": "四川蜀道路桥", "reason": "事实不清",
            "contact": {"phone": "13800000000"}})  # fmt: skip
    elif path == "/api/v1/repairs":
        call = Call(
            "POST",
            path,
            json={"record_id": w.record(minor=True), "commitment": True, "evidence": "已整改"},
        )
    elif path == "/api/v1/public/repairs":
        call = Call("POST", path, json={
            "record_id": w.record(old=True), "commitment": True, "evidence": "已整改",
            "applicant": "四川蜀道路桥", "contact": {"phone": "13800000000"}})  # fmt: skip
    elif path == "/api/v1/repairs/{repair_id}/decision":
        call = Call("POST", f"/api/v1/repairs/{w.repair()}/decision",
                    json={"outcome": "rejected", "note": "材料不全"})  # fmt: skip
    elif path == "/api/v1/webhooks/{webhook_id}":
        call = Call(method, f"/api/v1/webhooks/{w.webhook()}")
    else:
        call = fixed.get(path, Call(method, path, json={}))
    if not call.path:
        call.path = path
    call.method = method
    if method == "GET" and "{" in call.path:
        call.path = call.path.replace("{webhook_id}", w.webhook())
    return call


def observed(world: World, kind: str, call: Call, expected: str) -> str:
    resp = world.send(kind, call)
    cell = str(resp.status_code)
    if resp.status_code >= 400 and cell != expected:
        cell += f" ({resp.get_json()['message']})"
    if ":" in expected and resp.status_code == 200:
        [item] = resp.get_json()["results"]
        cell += ":" + OUTCOMES[item["status"]]
    return cell


@pytest.fixture
def world(app_factory: Callable[..., Flask], make_token: Callable[..., dict[str, str]]) -> World:
    # A connector to a partner that is not there: a sync run answers, and fails.
    partner = {"name": "province", "type": "hub", "url": "http://127.0.0.1:9", "token": "t"}
    return World(app_factory(connectors=[partner]), make_token)


def test_every_published_operation_has_a_row(world: World) -> None:
    doc = world.client.get("/api/v1/openapi.json").get_json()
    published = {
        (method.upper(), path) for path, ops in doc["paths"].items() for method in ops
        if method in METHODS
    }  # fmt: skip
    tabled = {(method, path) for method, path, _case in expected_rows()}
    assert published - tabled == set(), "operations without an expected row"
    assert tabled - published == set(), "rows for operations not published"


def test_every_client_kind_gets_the_expected_status_from_every_operation(world: World) -> None:
    surprises = []
    for (method, path, case), cells in expected_rows().items():
        for kind in KINDS:
            call = call_for(world, method, path, case)
            got = observed(world, kind, call, cells[kind])
            if got != cells[kind]:
                surprises.append(f"{method} {path} {case} as {kind}: {got}, expected {cells[kind]}")
    assert surprises == [], "\n".join(surprises)


def test_no_bearer_token_manages_clients(world: World) -> None:
    """Clients are managed by the joint office's console (and the command line), which knows
    console sessions only: no API token of any kind, the office's included, opens it."""
    from credithub.clients.models import Client

    def clients() -> list[tuple[str, bool]]:
        with world.app.app_context():
            return sorted((c.name, c.revoked_at is None) for c in db.session.query(Client))

    before = clients()
    victim = "住建局"
    with world.app.app_context():
        victim_id = db.session.query(Client).filter_by(name=victim).one().id
    form = {"name": "intruder", "kind": "admin"}
    for kind in KINDS:
        headers = world.headers[kind]
        for method, path, data in [
            ("GET", "/admin/clients", None),
            ("POST", "/admin/clients", form),
            ("POST", f"/admin/clients/{victim_id}/rotate", {}),
            ("POST", f"/admin/clients/{victim_id}/revoke", {}),
        ]:
            resp = world.client.open(path, method=method, data=data, headers=headers)
            assert resp.status_code in (302, 400), (kind, method, path, resp.status_code)
            if resp.status_code == 302:
                assert resp.headers["Location"].startswith("/admin/login"), (kind, path)
    assert clients() == before
