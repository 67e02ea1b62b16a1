"""A small demo data set: departments, a consumer, subjects, and a demo admin token."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.clients.models import Client
from credithub.clients.service import authenticate, create_client, rotate_token
from credithub.console import service as console
from credithub.entities.service import ensure_subjects, parse_subject
from credithub.records.models import Record
from credithub.records.prepare import Actor, today_in_china
from credithub.records.service import ingest
from credithub.workflows import objections
from credithub.workflows.models import Objection

DEPARTMENTS = [
    ("demo-zhujian", "呼伦贝尔市住房和城乡建设局", "11230500001755309F"),
    ("demo-caizheng", "呼伦贝尔市财政局", "111507000123456711"),
]

PERSON_ID = "11010519491231002X"  # 张建国, legal representative of 四川蜀道路桥
DISPUTED_REF = "榕住建罚〔2026〕12号"  # the record the demo's public objection disputes


SUBJECTS = [
    {
        "type": "organization",
        "name": "呼伦贝尔市北疆建筑工程有限公司",
        "uscc": "91230500MA1B3N1N2M",
    },
    {"type": "organization", "name": "四川蜀道路桥建设有限公司", "uscc": "91512081MA62K0260E"},
    {"type": "organization", "name": "深圳市南山工程咨询有限公司", "uscc": "914403001922038216"},
    {"type": "organization", "name": "福州闽江建材有限公司", "uscc": "91350100M0001TGQXM"},
    {"type": "person", "name": "张建国", "id_type": "身份证", "id_number": PERSON_ID},
]


def _records(today: date) -> list[tuple[str, dict[str, Any]]]:
    """(department, record): a listing naming its legal representative, a large procurement
    fine, misconduct, a commendation, and a penalty that a public objection disputes; decided
    on different days, so the profiles' score histories move."""
    shudao = {
        "type": "organization",
        "name": "四川蜀道路桥建设有限公司",
        "uscc": "91512081MA62K0260E",
        "legal_rep": {"name": "张建国", "id_type": "身份证", "id_number": PERSON_ID},
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
    minjiang = {
        "type": "organization",
        "name": "福州闽江建材有限公司",
        "uscc": "91350100M0001TGQXM",
    }

    def days_ago(n: int) -> str:
        return (today - timedelta(days=n)).isoformat()

    return [
        ("demo-zhujian", {
            "kind": "blacklist", "ref": "呼住建黑〔2026〕1号", "subject": shudao,
            "list": "ggzy-serious", "decided_on": days_ago(30), "listed_on": days_ago(30),
            "basis": "发改法规〔2018〕457号",
            "reason": "在海拉尔区第三中学教学楼工程中串通投标"}),
        ("demo-caizheng", {
            "kind": "penalty", "ref": "呼财罚〔2026〕3号", "subject": nanshan,
            "decided_on": days_ago(75), "categories": ["罚款"], "fine_yuan": "2500000",
            "domains": ["procurement"], "violation": "提供虚假材料谋取中标",
            "facts": "在呼伦贝尔市政务服务中心信息化项目投标中提供虚假业绩证明材料",
            "basis": "《政府采购法》第七十七条", "content": "罚款人民币贰佰伍拾万元"}),
        ("demo-zhujian", {
            "kind": "misconduct", "ref": "呼住建不良〔2026〕8号", "subject": beijiang,
            "code": "C-PM-ABSENT", "decided_on": days_ago(120), "domains": ["construction"],
            "project": "呼伦贝尔市中心医院门诊楼工程"}),
        ("demo-zhujian", {
            "kind": "commendation", "ref": "呼住建红〔2026〕2号", "subject": beijiang,
            "code": "contract-credit", "decided_on": days_ago(200)}),
        ("demo-zhujian", {
            "kind": "penalty", "ref": DISPUTED_REF, "subject": minjiang,
            "decided_on": days_ago(45), "categories": ["警告", "罚款"], "fine_yuan": "50000",
            "domains": ["construction"], "violation": "未按规定进行建筑材料进场检验",
            "facts": "在福州市仓山区安置房工程中使用未经进场检验的钢筋",
            "basis": "《建设工程质量管理条例》第六十五条", "content": "警告,并处罚款伍万元"}),
    ]  # fmt: skip


def _dispute(session: Session) -> None:
    """A public objection on the demo's disputed penalty, accepted by the office: the record
    shows as disputed (异议处理中). Once only: a later run finds the objection."""
    record_id = session.scalar(select(Record.id).where(Record.ref == DISPUTED_REF))
    if record_id is None or session.scalar(
        select(Objection.id).where(Objection.record_id == record_id)
    ):
        return
    body = {
        "record_id": record_id, "applicant": "福州闽江建材有限公司",
        "reason": "进场检验记录齐全,处罚所依据的事实有误",
        "contact": {"name": "林晓", "phone": "0591-87650000"},
    }  # fmt: skip
    filed = objections.file_public(session, body)
    objections.accept(session, filed.id, Actor(name="demo", kind="admin"))


DEMO_ADMIN = "demo-admin"
# The file in the instance folder that keeps the demo token, readable by its owner only.
TOKEN_FILE = "demo-admin-token"  # noqa: S105  (a file name, not a secret)


@dataclass(frozen=True)
class DemoAccess:
    """How to get into the demo: the admin API token and, where the demo has one, the
    console's login."""

    token: str
    console_user: str | None = None
    console_password: str | None = None
    summary: str = ""


def load_demo(session: Session, instance: Path) -> DemoAccess:
    """Load the demo set (idempotent). The demo admin keeps one token across runs, kept in
    the instance folder: a script that stored it goes on working."""
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
    _dispute(session)
    summary = (
        f"demo data loaded: {len(DEPARTMENTS)} department(s), {len(SUBJECTS)} subjects, "
        f"{len(_records(today_in_china()))} records"
    )
    return DemoAccess(
        token=_admin_token(session, instance / TOKEN_FILE),
        console_user=DEMO_CONSOLE_USER,
        console_password=_console_login(session, instance),
        summary=summary,
    )


def _admin_token(session: Session, kept: Path) -> str:
    """The demo admin's token: the one kept in `kept` while it still works; else a new one
    (the client is made, or its token rotated once), kept there for the next run."""
    token = kept.read_text(encoding="utf-8").strip() if kept.is_file() else ""
    caller = authenticate(session, token) if token else None
    if caller is not None and caller.name == DEMO_ADMIN:
        return token
    if session.scalar(select(Client.id).where(Client.name == DEMO_ADMIN)) is None:
        _client, token = create_client(session, DEMO_ADMIN, "admin", actor="demo")
    else:
        _client, token = rotate_token(session, DEMO_ADMIN, actor="demo")
    kept.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        fh.write(token + "\n")
    return token


DEMO_CONSOLE_USER = "office"


def _console_login(session: Session, instance: Path) -> str:
    """The demo console account `office`; its password is generated once and kept in the
    instance folder (0600), so the login printed by one run works after every later run."""
    path = instance / "console-office.password"
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
