"""Console accounts: create, list, unlock; log in with lock-out after repeated failures.

Passwords are hashed with argon2id (argon2-cffi's defaults); only the hash is stored. An unknown
username costs a hash verification too, so the answer's time does not tell which usernames
exist. Every login, failure, lock-out and unlock is audited. Services flush; the caller commits.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from credithub import audit, clock
from credithub.console.models import ConsoleAccount
from credithub.errors import Conflict, Invalid, NotFound
from credithub.records.prepare import Actor
from credithub.settings import ConsoleSettings

hasher = PasswordHasher()
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MIN_PASSWORD = 10


@functools.cache
def _unknown() -> str:
    """Verified against when the username is unknown: an unknown name costs what a known does."""
    return hasher.hash(secrets.token_urlsafe(16))


def actor_of(username: str) -> Actor:
    """The joint office acting through the console, named after the person logged in, so every
    audit entry and workflow step names them."""
    return Actor.of_client(f"console:{username}", "admin")


def settings() -> ConsoleSettings:
    found: ConsoleSettings = current_app.extensions["credithub.settings"].console
    return found


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_account(
    session: Session, username: str, password: str, actor: str = "cli"
) -> ConsoleAccount:
    """A new console account; the password is hashed, never stored."""
    username = username.strip()
    if not USERNAME.fullmatch(username):
        message = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        raise Invalid(f"username: {message}", {"username": [message]})
    if len(password) < MIN_PASSWORD:
        message = f"at least {MIN_PASSWORD} characters"
        raise Invalid(f"password: {message}", {"password": [message]})
    if session.scalar(select(ConsoleAccount.id).where(ConsoleAccount.username == username)):
        raise Conflict(f"a console account {username!r} exists already", {"username": ["taken"]})
    account = ConsoleAccount(username=username, password_hash=hasher.hash(password))
    session.add(account)
    session.flush()
    audit.record(session, actor, "console.account_create", "console_account", account.id,
                 {"username": username})  # fmt: skip
    return account


def find(session: Session, username: str) -> ConsoleAccount | None:
    found: ConsoleAccount | None = session.scalar(
        select(ConsoleAccount).where(ConsoleAccount.username == username)
    )
    return found


def get(session: Session, username: str) -> ConsoleAccount:
    account = find(session, username)
    if account is None:
        raise NotFound(f"no console account {username!r}")
    return account


def list_accounts(session: Session) -> list[ConsoleAccount]:
    return list(session.scalars(select(ConsoleAccount).order_by(ConsoleAccount.username)))


def is_locked(account: ConsoleAccount, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def unlock(session: Session, username: str, actor: str = "cli") -> ConsoleAccount:
    """End a lock-out now and forget the failures that led to it."""
    account = get(session, username)
    account.locked_until, account.failed_logins = None, 0
    audit.record(session, actor, "console.unlock", "console_account", account.id,
                 {"username": username})  # fmt: skip
    return account


def set_password(session: Session, username: str, password: str, actor: str = "cli") -> None:
    """Replace an account's password (the demo keeps its own across runs)."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters")
    account = get(session, username)
    account.password_hash = hasher.hash(password)
    account.session_epoch += 1  # whoever held the old password is logged out
    audit.record(session, actor, "console.password", "console_account", account.id,
                 {"username": username})  # fmt: skip


def verifies(account: ConsoleAccount, password: str) -> bool:
    try:
        return hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class Login:
    """What a login attempt came to: the account when it succeeded, else why not."""

    account: ConsoleAccount | None
    refusal: str = ""
    locked_until: datetime | None = None


REFUSED = "用户名或密码不正确。"


def login(session: Session, username: str, password: str) -> Login:
    """Check a login. A wrong password counts a failure; `max_failures` in a row lock the
    account for `lockout_minutes`, during which even the right password is refused."""
    now = clock.now()
    account = find(session, username.strip())
    if account is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_unknown(), password)
        audit.record(session, "console", "console.login_failed", "console_account", "-",
                     {"username": username[:64], "reason": "unknown"})  # fmt: skip
        return Login(None, REFUSED)
    right = verifies(account, password)
    if is_locked(account, now):
        audit.record(session, "console", "console.login_failed", "console_account", account.id,
                     {"username": account.username, "reason": "locked"})  # fmt: skip
        until = account.locked_until
        return Login(None, f"账户已锁定,至 {_local(until)} 前无法登录。", until)
    if not right:
        return _failed(session, account, now)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    audit.record(session, actor_of(account.username).name, "console.login", "console_account",
                 account.id, {"username": account.username})  # fmt: skip
    return Login(account)


def _failed(session: Session, account: ConsoleAccount, now: datetime) -> Login:
    rules = settings()
    account.failed_logins += 1
    audit.record(session, "console", "console.login_failed", "console_account", account.id,
                 {"username": account.username, "reason": "password",
                  "failures": account.failed_logins})  # fmt: skip
    if account.failed_logins < rules.max_failures:
        return Login(None, REFUSED)
    until = now + timedelta(minutes=rules.lockout_minutes)
    account.locked_until, account.failed_logins = until, 0
    audit.record(session, "console", "console.lockout", "console_account", account.id,
                 {"username": account.username, "until": until.isoformat()})  # fmt: skip
    return Login(
        None, f"连续 {rules.max_failures} 次密码错误,账户已锁定至 {_local(until)}。", until
    )


def logout(session: Session, username: str) -> None:
    """End every session of the account, not only this browser's: a signed cookie copied
    before the logout opens nothing after it."""
    account = find(session, username)
    if account is not None:
        account.session_epoch += 1
    audit.record(session, actor_of(username).name, "console.logout", "console_account", "-",
                 {"username": username})  # fmt: skip


def _local(instant: datetime | None) -> str:
    """An instant as the office reads it: China time, to the minute."""
    if instant is None:
        return "-"
    return instant.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M") + "(北京时间)"
