"""The `credithub` command line (see api.md: Command line)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask

from credithub import cli_audit as audit_cli
from credithub import cli_console as console_cli
from credithub import cli_keys as trust_cli
from credithub import cli_sync as sync_cli
from credithub.config import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine


@contextmanager
def app_context() -> Iterator[Flask]:
    from credithub import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    with app.app_context():
        from sqlalchemy.exc import DBAPIError

        from credithub.db import db

        try:
            yield app
        except DBAPIError:
            _schema_behind(db.engine)
            raise
        finally:
            db.session.close()
            db.dispose()


def _schema_behind(engine: Engine) -> None:
    """A database error in a database that is not at the current schema: say what to do."""
    from sqlalchemy.exc import DBAPIError

    from credithub import migrate

    with suppress(DBAPIError):
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if current != head:
            at = f"at revision {current}" if current else "empty"
            raise click.ClickException(
                f"the database is {at}, not at the current schema ({head}): "
                "run `credithub init-db` first"
            )


@click.group()
@click.version_option(package_name="credithub")
def main() -> None:
    """credithub: the joint-credit and blacklist sharing hub."""


@main.command("init-db")
def init_db() -> None:
    """Create the database or migrate it to the current schema (safe to repeat)."""
    from credithub import migrate
    from credithub.db import db
    from credithub.entities.service import fill_federation_hashes

    with app_context():
        before = migrate.current_revision(db.engine)
        migrate.upgrade(db.engine)
        after = migrate.current_revision(db.engine)
        click.echo(f"database at revision {after}" + ("" if before != after else " (unchanged)"))
        with db.transaction() as session:
            filled = fill_federation_hashes(session)
        if filled:
            click.echo(f"federation hash made for {filled} person(s)")


@main.command()
@click.option("--host", default=None, help="address to listen on (default from configuration)")
@click.option("--port", type=int, default=None, help="port (default from configuration)")
@click.option(
    "--workers", type=int, default=None, help="worker processes (default from configuration)"
)
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve HTTP with gunicorn, the production WSGI server."""
    from credithub.config import load_settings
    from credithub.server import count_across_workers, run

    try:
        count_across_workers(load_settings().instance_path)  # before the app is built
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    with app_context() as app:
        settings = app.extensions["credithub.settings"]
    run(
        app,
        host or settings.server.host,
        port or settings.server.port,
        workers or settings.server.workers,
    )


@main.group()
def clients() -> None:
    """Manage API clients and their tokens."""


@clients.command("create")
@click.option("--name", required=True)
@click.option(
    "--kind", required=True, type=click.Choice(["department", "consumer", "peer", "admin"])
)
@click.option("--uscc", default=None, help="the client's own USCC (required for a department)")
@click.option("--hub", default=None, help="a peer's own hub id (required for a peer)")
@click.option(
    "--relays-for",
    "relays_for",
    multiple=True,
    metavar="HUB",
    help="a hub whose records this peer relays (repeatable): a province for its cities",
)
def clients_create(
    name: str, kind: str, uscc: str | None, hub: str | None, relays_for: tuple[str, ...]
) -> None:
    """Create a client; its token is printed alone on the last line, once."""
    from credithub.clients.service import create_client
    from credithub.db import db

    with app_context(), _service_errors(), db.transaction() as session:
        client, token = create_client(session, name, kind, uscc, hub=hub, relays_for=relays_for)
        click.echo(
            f"created {client.kind} client {client.name!r}; its token (shown once):", err=True
        )
    click.echo(token)


@clients.command("list")
def clients_list() -> None:
    """One line per client: name, kind, USCC, token hint, state; a peer's hub and the hubs
    it relays for."""
    from credithub.clients.service import list_clients
    from credithub.db import db

    with app_context():
        for c in list_clients(db.session):
            state = "revoked" if c.revoked_at else "active"
            line = f"{c.name}\t{c.kind}\t{c.uscc or '-'}\t{c.token_hint}…\t{state}"
            if c.hub:
                line += f"\thub {c.hub}"
            if c.relays_for:
                line += f"\trelays for {', '.join(c.relays_for)}"
            click.echo(line)


@clients.command("revoke")
@click.argument("name")
def clients_revoke(name: str) -> None:
    """Revoke a client's token at once."""
    from credithub.clients.service import revoke_client
    from credithub.db import db

    with app_context(), _service_errors(), db.transaction() as session:
        revoke_client(session, name)
    click.echo(f"revoked {name}")


@clients.command("rotate")
@click.argument("name")
def clients_rotate(name: str) -> None:
    """Issue a new token for a client; the old one stops working."""
    from credithub.clients.service import rotate_token
    from credithub.db import db

    with app_context(), _service_errors(), db.transaction() as session:
        _client, token = rotate_token(session, name)
    click.echo(token)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--client",
    "client_name",
    required=True,
    help="import as this client (its scope and USCC apply)",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="write the rejected rows, with reasons, to this CSV file",
)
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 5000))
def import_(file: Path, client_name: str, report: Path | None, batch_size: int) -> None:
    """Import a 双公示 file (CSV in UTF-8 or GBK, XLSX, or JSON) as a client.

    A rejected row is named by its index: its place among the file's data rows counted from 0
    (the header, title rows above it and blank lines not counted), the same number as the
    API's results[].index for the same file."""
    from credithub.clients.service import get_by_name
    from credithub.db import db
    from credithub.records import intake
    from credithub.records.prepare import Actor

    with app_context(), _service_errors():
        # SQLite: the commits leave copying the log to a thread, as in a served worker.
        db.checkpoints_apart()
        db.checkpoint_behind()
        client = get_by_name(db.session, client_name)
        if client.revoked_at is not None or "records:write" not in client.scopes:
            raise click.ClickException(f"client {client_name!r} may not write records")
        actor = Actor.of_client(
            client.name, client.kind, client.uscc, client.hub, tuple(client.relays_for or ())
        )
        warnings, parsed = intake.parse(file.read_bytes(), None, actor)
        summary = intake.ImportSummary()
        try:
            with click.progressbar(
                length=len(parsed), label=f"importing {file.name}", file=sys.stderr
            ) as bar:
                for batch in intake.import_rows(parsed, actor, batch_size):
                    summary.add(batch)
                    bar.update(batch.rows)
        except intake.ImportFailed as exc:
            done = f"{summary.rows} rows were imported; run the import again for the rest"
            raise click.ClickException(f"{exc}; {done}") from None
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"rows {summary.rows}: created {summary.created}, updated {summary.updated}, "
        f"unchanged {summary.unchanged}, rejected {len(summary.rejected)}"
    )
    for index, _, errors in summary.rejected[:50]:
        reasons = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        click.echo(f"  index {index}: {reasons}")
    if len(summary.rejected) > 50:
        click.echo(
            f"  … and {len(summary.rejected) - 50} more" + ("" if report else " (use --report)")
        )
    if report is not None and summary.rejected:
        # Rejected rows carry personal data: the report is its owner's only.
        fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8-sig", closefd=True) as fh:
            os.fchmod(fh.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
            fh.write(intake.rejected_report(summary))
        click.echo(f"rejected rows written to {report}")
    if summary.rejected:
        sys.exit(1 if not (summary.created or summary.updated or summary.unchanged) else 0)


@main.command()
@click.option("--all", "everything", is_flag=True, help="every subject with records, due or not")
@click.option("--chunk", default=2000, show_default=True, type=click.IntRange(1, 100_000))
def rescore(everything: bool, chunk: int) -> None:
    """Recompute standings that time or a rule-pack change made due (all with --all)."""
    from credithub.db import db, utcnow
    from credithub.standing.service import due_subjects, refresh

    with app_context():
        now = utcnow()
        ids = due_subjects(db.session, now, everything)
        db.session.close()
        with click.progressbar(length=len(ids), label="rescoring", file=sys.stderr) as bar:
            for start in range(0, len(ids), chunk):
                part = ids[start : start + chunk]
                with db.transaction() as session:
                    refresh(session, part, now=now)
                bar.update(len(part))
    click.echo(f"rescored {len(ids)} subject(s)")


@main.command()
def expire() -> None:
    """Expire this hub's records whose term has ended; each expiry travels to peers."""
    from credithub.jobs.service import holder_name, run_job
    from credithub.records.jobs import expire_due

    with app_context():
        run = run_job("expire", holder_name(), expire_due)
    if run.status != "ok":
        raise click.ClickException(f"expiry failed: {run.error}")
    counts = run.counts or {}
    click.echo(f"expired {counts.get('expired', 0)} record(s) ({counts.get('due', 0)} due)")


main.add_command(sync_cli.sync_group)
main.add_command(trust_cli.hub_group)
main.add_command(console_cli.admin_group)
main.add_command(audit_cli.audit_group)


@main.command()
def scheduler() -> None:
    """Run the periodic jobs until stopped (one scheduler per deployment; others wait)."""
    import signal
    import threading

    from credithub import scheduler as jobs

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with app_context() as app:
        jobs.run(app, stop)


@main.group()
def webhooks() -> None:
    """Notifications sent to clients' webhooks."""


@webhooks.command("run")
def webhooks_run() -> None:
    """Deliver the events due now, once; exit 1 if any delivery failed."""
    from credithub.webhooks.delivery import deliver_due

    with app_context():
        outcome = deliver_due()
    for error in outcome.errors[:20]:
        click.echo(f"failed: {error}", err=True)
    click.echo(
        f"webhooks: delivered {outcome.delivered}, failed {outcome.failed} "
        f"(given up {outcome.given_up}), pending {outcome.pending}"
    )
    if outcome.failed:
        sys.exit(1)


@main.command()
@click.option(
    "--url",
    default=None,
    help="where the hub is served, for the lines printed (default: the configuration's "
    "server host and port)",
)
def demo(url: str | None) -> None:
    """Load a small demo data set (safe to repeat); then print how to get in: the URL, the
    console login where the demo has one, the demo admin token and a curl to try it. The
    token is the same on every run while it works; it is kept in the instance folder's
    demo-admin-token file (mode 0600), where a script may read it."""
    from credithub.db import db
    from credithub.demo import TOKEN_FILE, load_demo

    with app_context() as app, _service_errors(), db.transaction() as session:
        settings = app.extensions["credithub.settings"]
        access = load_demo(session, settings.instance_path)
    base = (url or f"http://{settings.server.host}:{settings.server.port}/").rstrip("/")
    kept = settings.instance_path / TOKEN_FILE
    click.echo(access.summary)
    click.echo("")
    click.echo(f"  open     {base}/")
    if access.console_user:
        click.echo(
            f"  console  {base}/admin/  user {access.console_user}  "
            f"password {access.console_password}"
        )
    click.echo(f"  docs     {base}/api/v1/docs")
    click.echo(f"  token    {access.token}")
    click.echo(f"           (the demo admin's API token, the same on every run: {kept})")
    click.echo(
        f'  try      curl -H "Authorization: Bearer {access.token}" '
        f"{base}/api/v1/entities/91230500MA1B3N1N2M"
    )
    click.echo("")


@contextmanager
def _service_errors() -> Iterator[None]:
    from credithub.errors import ServiceError

    try:
        yield
    except ServiceError as exc:
        # A field's messages that the message already says are not said again.
        detail = "; ".join(
            f"{k}: {', '.join(map(str, v))}"
            for k, v in exc.errors.items()
            if not all(str(m) in exc.message for m in v)
        )
        raise click.ClickException(exc.message + (f" ({detail})" if detail else "")) from None
