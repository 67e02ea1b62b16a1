"""Console accounts: `credithub admin create`, `credithub admin list`, `credithub admin unlock`."""

from __future__ import annotations

import sys

import click


@click.group("admin")
def admin_group() -> None:
    """Logins of the joint office to the console (/admin/)."""


@admin_group.command("create")
@click.option("--username", "--name", "username", required=True, help="the login name")
@click.option(
    "--password",
    default=None,
    help="the password (at least 10 characters); without it: asked for on a terminal, "
    "else generated and printed once",
)
def admin_create(username: str, password: str | None) -> None:
    """Create a console account. A generated password is printed alone on the last line, once."""
    from credithub.cli import _service_errors, app_context
    from credithub.console import service
    from credithub.db import db

    generated = False
    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "password (empty: generate one)", default="", show_default=False,
            hide_input=True, confirmation_prompt=True,
        )  # fmt: skip
    if not password:
        password, generated = service.generate_password(), True
    with app_context(), _service_errors(), db.transaction() as session:
        service.create_account(session, username, password)
    if generated:
        click.echo(f"created console account {username!r}; its password (shown once):", err=True)
        click.echo(password)
    else:
        click.echo(f"created console account {username!r}")


@admin_group.command("list")
def admin_list() -> None:
    """One line per account: username, created, last login, failures, locked until."""
    from credithub import clock
    from credithub.cli import app_context
    from credithub.console import service
    from credithub.db import db

    with app_context():
        now = clock.now()
        for a in service.list_accounts(db.session):
            locked = (
                a.locked_until.isoformat() if service.is_locked(a, now) and a.locked_until else "-"
            )
            last = a.last_login_at.isoformat() if a.last_login_at else "never"
            click.echo(
                f"{a.username}\tcreated {a.created_at.isoformat()}\tlast login {last}\t"
                f"failures {a.failed_logins}\tlocked until {locked}"
            )


@admin_group.command("unlock")
@click.argument("username")
def admin_unlock(username: str) -> None:
    """End an account's lock-out now."""
    from credithub.cli import _service_errors, app_context
    from credithub.console import service
    from credithub.db import db

    with app_context(), _service_errors(), db.transaction() as session:
        service.unlock(session, username)
    click.echo(f"console account {username!r} unlocked")
