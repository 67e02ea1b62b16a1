"""A small demo data set: departments, a consumer, subjects, and a demo admin token."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub.clients.models import Client
from credithub.clients.service import create_client, rotate_token
from credithub.entities.service import ensure_subjects, parse_subject

DEPARTMENTS = [
    ("demo-zhujian", "呼伦贝尔市住房和城乡建设局", "11230500001755309F"),
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


def load_demo(session: Session) -> tuple[str, str]:
    """Load the demo set (idempotent); return a summary and a fresh demo admin token."""
    for name, _title, uscc in DEPARTMENTS:
        if session.scalar(select(Client.id).where(Client.name == name)) is None:
            create_client(session, name, "department", uscc, actor="demo")
    refs = [parse_subject(s)[0] for s in SUBJECTS]
    ensure_subjects(session, refs, [date(2026, 1, 1)] * len(refs))
    if session.scalar(select(Client.id).where(Client.name == "demo-admin")) is None:
        _client, token = create_client(session, "demo-admin", "admin", actor="demo")
    else:
        _client, token = rotate_token(session, "demo-admin", actor="demo")
    summary = (
        f"demo data loaded: {len(DEPARTMENTS)} department(s), {len(SUBJECTS)} subjects; "
        "demo admin token (new on every run):"
    )
    return summary, token
