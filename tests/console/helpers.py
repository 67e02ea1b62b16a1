"""Logging in to the console as a browser does: read the form's CSRF token, post the form."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from credithub.audit.models import AuditEntry
from credithub.console import service
from credithub.db import db

PASSWORD = "correct-horse-battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(app: Flask, username: str = "ana", password: str = PASSWORD) -> None:
    with app.app_context(), db.transaction() as session:
        service.create_account(session, username, password)


def csrf(client: FlaskClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, username: str = "ana", password: str = PASSWORD) -> Any:
    token = csrf(client)
    return client.post(
        "/admin/login", data={"csrf_token": token, "username": username, "password": password}
    )


def post_form(client: FlaskClient, page: str, action: str, **fields: str) -> Any:
    """Post a form of `page` to `action`, carrying the page's CSRF token."""
    return client.post(action, data={"csrf_token": csrf(client, page), **fields})


def text(resp: Any) -> str:
    return str(resp.get_data(as_text=True))


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )
