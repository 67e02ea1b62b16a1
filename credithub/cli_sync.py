"""Exchanging records with other platforms: `credithub sync run|status|reconcile|replay`, and
the keys and quarantine commands of the trust package (cli_keys)."""

from __future__ import annotations

import sys
from typing import Any

import click

from credithub import cli_keys as trust_cli


@click.group("sync")
def sync_group() -> None:
    """Exchange records with other platforms (the connectors in the configuration)."""


NO_CONNECTORS = (
    "no connector is configured: add a [[connectors]] table to the configuration file "
    "(see config.example.toml)"
)


@sync_group.command("run")
@click.argument("names", nargs=-1)
def sync_run(names: tuple[str, ...]) -> None:
    """Push then pull once for the named connectors (all if none); exit 1 if any failed.
    With no connector configured it says so and exits 0: there is nothing to fail."""
    from credithub.cli import app_context
    from credithub.sync import service

    with app_context():
        if not names and not service.configured():
            click.echo(NO_CONNECTORS)
            return
        try:
            results = service.run(list(names) or None)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    for r in results:
        state = "ok" if r.ok else "FAILED: " + "; ".join(r.errors)
        click.echo(
            f"{r.connector}: pushed {r.pushed}, skipped {r.skipped}, dead-lettered {r.dead}, "
            f"pulled {r.pulled} "
            f"(applied {r.applied}, rejected {r.rejected}, quarantined {r.quarantined}, "
            f"released {r.released}) — {state}"
        )
    if any(not r.ok for r in results):
        sys.exit(1)


@sync_group.command("status")
def sync_status() -> None:
    """One line per connector: last run, pending changes, dead letters, cursor, last error
    (or that none is configured); then the keys this hub knows."""
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.sync import service, states
    from credithub.trust import keys

    with app_context():
        if not service.configured():
            click.echo(NO_CONNECTORS)
        for s in states.status(db.session):
            click.echo(
                f"{s['name']} ({s['type']}): last run {s['last_run'] or 'never'}, "
                f"last success {s['last_success'] or 'never'}, pending {s['pending']}, "
                f"dead letters {s['dead_letters']}, cursor {s['pull_cursor'] or '-'}, "
                f"last error {s['last_error'] or '-'}, quarantined {s['quarantined']}, "
                f"last reconcile {_reconciled(s['reconcile'])}"
            )
        click.echo("keys:")
        for line in trust_cli.key_lines(keys.listing(db.session)):
            click.echo("  " + line)


def _reconciled(found: dict[str, Any] | None) -> str:
    if not found:
        return "never"
    state = "ok" if found["ok"] else "FAILED: " + "; ".join(found["errors"])
    return (
        f"{found['at']} ({found['cells']} cells, {found['differing']} differing, "
        f"fetched {found['fetched']}, missing there {found['missing_there']['count']}, "
        f"newer here {found['newer_here']['count']}, resent {found['resent']} — {state})"
    )


@sync_group.command("reconcile")
@click.argument("names", nargs=-1)
def sync_reconcile(names: tuple[str, ...]) -> None:
    """Compare what each partner hub holds with what this hub holds, per origin hub and month;
    fetch what is missing or older here; report the rest. Exit 1 if any failed."""
    from credithub.cli import app_context
    from credithub.sync import reconcile, service

    with app_context():
        if not names and not service.configured():
            click.echo(NO_CONNECTORS)
            return
        try:
            results = reconcile.run(list(names) or None)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
    for r in results:
        click.echo(f"{r.connector}: {_reconciled(r.to_dict())}")
        for cell in r.differing:
            click.echo(
                f"  differs: {cell['origin']} {cell['month']}: {cell['here']} here, "
                f"{cell['there']} there"
            )
        for label, keys in (
            ("missing here", r.missing_here),
            ("older here", r.older_here),
            ("newer here (left alone)", r.newer_here),
            ("missing there", r.missing_there),
            ("not fetched (this hub's own, or no pull)", r.not_fetched),
        ):
            if keys:
                shown = ", ".join(f"{o}|{i}" for o, i in keys[:20])
                more = f" and {len(keys) - 20} more" if len(keys) > 20 else ""
                click.echo(f"  {label}: {shown}{more}")
        for item in r.rejected[:20]:
            click.echo(f"  rejected: {item['origin']}|{item['id']}: {item['errors']}")
    if any(not r.ok for r in results):
        sys.exit(1)


@sync_group.command("replay")
@click.argument("name")
def sync_replay(name: str) -> None:
    """Send a connector's dead-lettered changes again on its next run."""
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.sync import states

    with app_context(), db.transaction() as session:
        count = states.replay(session, name)
    click.echo(f"{count} dead letter(s) of {name} queued again")


sync_group.add_command(trust_cli.keys_group)
sync_group.add_command(trust_cli.quarantine_command)
