"""Console accounts and logins: argon2 hashes, lock-out, sessions, CSRF and cookie flags."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from credithub import clock
from credithub.console import service
from credithub.console.models import ConsoleAccount
from credithub.db import db
from tests.console.helpers import PASSWORD, audited, csrf, login, make_account, post_form, text


def _account(app: Flask, username: str = "ana") -> ConsoleAccount:
    with app.app_context():
        account = service.find(db.session, username)
        assert account is not None
        return account


def test_an_account_keeps_an_argon2_hash_never_the_password(
    app: Flask, run_cli: Callable[..., Any]
) -> None:
    made = run_cli("admin", "create", "--username", "ana", "--password", PASSWORD)
    assert made.exit_code == 0, made.output
    account = _account(app)
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    # Without a password (and no terminal to ask on) one is generated and printed once, last.
    generated = run_cli("admin", "create", "--username", "bo")
    assert generated.exit_code == 0, generated.output
    password = generated.stdout.strip().splitlines()[-1]
    assert len(password) >= 10
    assert service.verifies(_account(app, "bo"), password)
    again = run_cli("admin", "create", "--username", "bo", "--password", PASSWORD)
    assert again.exit_code != 0
    assert "exists already" in again.output
    short = run_cli("admin", "create", "--username", "cy", "--password", "short")
    assert short.exit_code != 0
    assert "at least 10" in short.output
    listed = run_cli("admin", "list")
    assert "ana\t" in listed.stdout
    assert "bo\t" in listed.stdout


def test_login_opens_the_console_and_audits_the_person(app: Flask, client: FlaskClient) -> None:
    make_account(app)
    answer = client.get("/admin/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/admin/login?next=")
    assert client.get("/admin/objections").status_code == 302
    logged = login(client)
    assert logged.status_code == 302
    assert logged.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in page.headers
    assert "<svg" in text(page)
    [entry] = audited(app, "console.login")
    assert entry.actor == "console:ana"
    assert _account(app).last_login_at is not None
    # Logging out ends the session.
    out = post_form(client, "/admin/", "/admin/logout")
    assert out.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_login_goes_back_to_the_console_page_asked_for_only(
    app: Flask, client: FlaskClient
) -> None:
    make_account(app)
    for target, expected in (
        ("/admin/clients", "/admin/clients"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
    ):
        with client.session_transaction() as browser:
            browser.clear()
        token = csrf(client)
        data = {"csrf_token": token, "username": "ana", "password": PASSWORD, "next": target}
        answer = client.post("/admin/login", data=data)
        assert answer.headers["Location"] == expected


def test_repeated_failures_lock_the_account_even_against_the_right_password(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(console={"max_failures": 3, "lockout_minutes": 15})
    client = app.test_client()
    make_account(app)
    with clock.travel("2026-12-01T10:00:00+08:00"):
        for _ in range(2):
            login(client, password="wrong-password")
        assert _account(app).failed_logins == 2
        refused = login(client, password="wrong-password")
        assert refused.status_code == 302
        assert refused.headers["Location"].startswith("/admin/login")
        account = _account(app)
        assert account.locked_until is not None
        page = text(client.get("/admin/login"))
        assert "已锁定至 2026-12-01 10:15" in page
        # Locked: the right password is refused too, saying until when.
        login(client)
        assert "账户已锁定,至 2026-12-01 10:15" in text(client.get("/admin/login"))
        assert client.get("/admin/").status_code == 302
    with clock.travel("2026-12-01T10:16:00+08:00"):
        assert login(client).headers["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200
    assert _account(app).failed_logins == 0
    assert len(audited(app, "console.lockout")) == 1
    reasons = [e.detail for e in audited(app, "console.login_failed")]
    assert sum('"reason":"locked"' in r for r in reasons) == 1


def test_unlock_ends_a_lockout(
    app_factory: Callable[..., Flask], run_cli: Callable[..., Any]
) -> None:
    app = app_factory(console={"max_failures": 1})
    client = app.test_client()
    make_account(app)
    login(client, password="wrong-password")
    assert _account(app).locked_until is not None
    assert run_cli("admin", "unlock", "ana").exit_code == 0
    assert _account(app).locked_until is None
    assert login(client).headers["Location"] == "/admin/"
    assert run_cli("admin", "unlock", "nobody").exit_code != 0


def test_an_unknown_user_is_refused_like_a_wrong_password(app: Flask, client: FlaskClient) -> None:
    make_account(app)
    login(client, username="mallory")
    unknown = text(client.get("/admin/login"))
    login(client, password="wrong-password")
    wrong = text(client.get("/admin/login"))
    assert "用户名或密码不正确" in unknown
    assert "用户名或密码不正确" in wrong
    assert client.get("/admin/").status_code == 302
    [entry, _] = audited(app, "console.login_failed")
    assert '"reason":"unknown"' in entry.detail


def test_a_session_lasts_session_hours(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(console={"session_hours": 1})
    client = app.test_client()
    make_account(app)
    with clock.travel("2026-12-01T10:00:00+08:00"):
        login(client)
        assert client.get("/admin/").status_code == 200
    with clock.travel("2026-12-01T11:01:00+08:00"):
        assert client.get("/admin/").status_code == 302


def test_forms_without_a_csrf_token_are_refused(app: Flask, client: FlaskClient) -> None:
    make_account(app)
    csrf(client)
    refused = client.post("/admin/login", data={"username": "ana", "password": PASSWORD})
    assert refused.status_code == 400
    assert "表单已过期" in text(refused)
    assert "text/html" in refused.headers["Content-Type"]
    assert audited(app, "console.login") == []
    login(client)
    refused = client.post("/admin/clients", data={"name": "x", "kind": "consumer"})
    assert refused.status_code == 400
    forged = client.post(
        "/admin/clients", data={"name": "x", "kind": "consumer", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert audited(app, "client.create") == []


def test_the_session_cookie_is_httponly_samesite_and_secure_over_tls(app: Flask) -> None:
    make_account(app)
    plain = app.test_client()
    cookie = login(plain).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    tls = app.test_client()
    page = tls.get("/admin/login", base_url="https://hub.example")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert "Secure" in page.headers["Set-Cookie"]
    answer = tls.post(
        "/admin/login",
        base_url="https://hub.example",
        headers={"Referer": "https://hub.example/admin/login"},
        data={"csrf_token": token, "username": "ana", "password": PASSWORD},
    )
    assert answer.status_code == 302, text(answer)
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_an_api_token_does_not_open_the_console(
    app: Flask, client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    for headers in (make_token("department", uscc="11230500001755309F"), make_token("admin")):
        answer = client.get("/admin/", headers=headers)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/admin/login")
        refused = client.post("/admin/clients", headers=headers, data={"name": "x"})
        assert refused.status_code == 400  # no session, no CSRF token


def test_the_demo_console_login_stays_the_same_across_runs(
    app: Flask, client: FlaskClient, run_cli: Callable[..., Any], instance_path: Path
) -> None:
    first = run_cli("demo")
    second = run_cli("demo")
    assert first.exit_code == second.exit_code == 0, first.output
    [line] = [x for x in first.stdout.splitlines() if x.strip().startswith("console ")]
    assert "/admin/  user office  password " in line
    assert line in second.stdout
    password = line.rsplit(" ", 1)[-1]
    assert (instance_path / "console-office.password").stat().st_mode & 0o777 == 0o600
    assert login(client, "office", password).headers["Location"] == "/admin/"


def test_logging_out_ends_every_session_of_the_account(app: Flask) -> None:
    make_account(app)
    browser, copied = app.test_client(), app.test_client()
    login(browser)
    cookie = browser.get_cookie("session")
    assert cookie is not None
    copied.set_cookie("session", cookie.value)  # the same signed cookie, taken elsewhere
    assert copied.get("/admin/").status_code == 200
    assert post_form(browser, "/admin/", "/admin/logout").status_code == 302
    assert copied.get("/admin/").status_code == 302  # to the login: the session has ended
    assert login(browser).headers["Location"] == "/admin/"  # a new login works


def test_a_new_password_ends_the_sessions_begun_with_the_old_one(app: Flask) -> None:
    make_account(app)
    browser = app.test_client()
    login(browser)
    assert browser.get("/admin/").status_code == 200
    with app.app_context(), db.transaction() as session:
        service.set_password(session, "ana", "another-long-password")
    assert browser.get("/admin/").status_code == 302
