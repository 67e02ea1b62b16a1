"""A small demo data set: departments, a consumer, subjects, and a demo admin token."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.clients.models import Client
from credithub.clients.service import create_client, rotate_token
from credithub.console import service as console
from credithub.entities.service import ensure_subjects, parse_subject
from credithub.records.prepare import Actor, today_in_china
from credithub.records.service import ingest

DEPARTMENTS = [
    ("demo-zhujian", "呼伦贝尔市住房和城乡建设局", "11230500001755309F"),
    ("demo-caizheng", "呼伦贝尔市财政局", "111507000123456711"),
]

SUBJECTS = [
    {
        "type": "organization",
        "name": "呼伦贝尔市北疆建筑工程有限公司",
        "uscc": "91230500MA1B3N1N2M",
    },
    {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": "91512081MA62K0260E"},
    {"type": "organization", "name": "深圳市南山工程咨询有限公司", "uscc": "914403001922038216"},
    {"type": "organization", "name": "福州闽江建材有限公司", "uscc": "91350100M0001TGQXM"},
    {"type": "person", "name": "张建国", "id_type": "身份证", "id_number": "11010519491231002X"},
]


def _records(today: date) -> list[tuple[str, dict[str, Any]]]:
    """(department, record): a listing, a large procurement fine, misconduct, a commendation."""
    shudao = {
        "type": "organization",
        "name": "四川蜀道路桥建设有限公司",
        "uscc": "91512081MA62K0260E",
    }
    nanshan = {
        "type": "organization",
        "name": "深圳市南山工程咨询有限公司",
        "uscc": "914403001922038216",
    }
    beijiang = {
        "type": "organization",
        "name": "呼伦贝尔市北疆建筑工程有限公司",
        "uscc": "91230500MA1B3N1N2M",
    }
    recent = (today - timedelta(days=30)).isoformat()
    return [
        ("demo-zhujian", {
            "kind": "blacklist", "ref": "呼住建黑〔2026〕1号", "subject": shudao,
            "list": "ggzy-serious", "decided_on": recent, "listed_on": recent,
            "basis": "发改法规〔2018〕457号",
            "reason": "在海拉尔区第三中学教学楼工程中串通投标"}),
        ("demo-caizheng", {
            "kind": "penalty", "ref": "呼财罚〔2026〕3号", "subject": nanshan, "decided_on": recent,
            "categories": ["罚款"], "fine_yuan": "2500000", "domains": ["procurement"],
            "violation": "提供虚假材料谋取中标", "basis": "《政府采购法》第七十七条",
            "content": "罚款人民币贰佰伍拾万元"}),
        ("demo-zhujian", {
            "kind": "misconduct", "ref": "呼住建不良〔2026〕8号", "subject": beijiang,
            "code": "C-PM-ABSENT", "decided_on": recent, "domains": ["construction"],
            "project": "呼伦贝尔市中心医院门诊楼工程"}),
        ("demo-zhujian", {
            "kind": "commendation", "ref": "呼住建红〔2026〕2号", "subject": beijiang,
            "code": "contract-credit", "decided_on": recent}),
    ]  # fmt: skip


def load_demo(session: Session) -> tuple[str, str, str]:
    """Load the demo set (idempotent); return a summary, a fresh demo admin token, and the
    password of the demo console account `office` (the same on every run)."""
    for name, _title, uscc in DEPARTMENTS:
        if session.scalar(select(Client.id).where(Client.name == name)) is None:
            create_client(session, name, "department", uscc, actor="demo")
    refs = [parse_subject(s)[0] for s in SUBJECTS]
    ensure_subjects(session, refs, [date(2026, 1, 1)] * len(refs))
    titles = {name: title for name, title, _ in DEPARTMENTS}
    usccs = {name: uscc for name, _, uscc in DEPARTMENTS}
    for department, record in _records(today_in_china()):
        actor = Actor(name=titles[department], kind="department", uscc=usccs[department])
        result = ingest(session, [record], actor)
        if result.rejected:
            raise RuntimeError(f"demo record rejected: {result.results[0].errors}")
    if session.scalar(select(Client.id).where(Client.name == "demo-admin")) is None:
        _client, token = create_client(session, "demo-admin", "admin", actor="demo")
    else:
        _client, token = rotate_token(session, "demo-admin", actor="demo")
    summary = (
        f"demo data loaded: {len(DEPARTMENTS)} department(s), {len(SUBJECTS)} subjects, "
        f"{len(_records(today_in_china()))} records; "
        "demo admin token (new on every run):"
    )
    return summary, token, _console_login(session)


DEMO_CONSOLE_USER = "office"


def _console_login(session: Session) -> str:
    """The demo console account `office`; its password is generated once and kept in the
    instance folder (0600), so the login printed by one run works after every later run."""
    path = current_app.extensions["credithub.settings"].instance_path / "console-office.password"
    if path.exists():
        password = path.read_text().strip()
    else:
        password = console.generate_password()
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(password + "\n")
    account = console.find(session, DEMO_CONSOLE_USER)
    if account is None:
        console.create_account(session, DEMO_CONSOLE_USER, password, actor="demo")
    elif not console.verifies(account, password):
        console.set_password(session, DEMO_CONSOLE_USER, password, actor="demo")
    return password
