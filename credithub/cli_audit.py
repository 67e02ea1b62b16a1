"""Commands for the audit trail: `credithub audit verify`."""

from __future__ import annotations

import sys

import click


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Verify the audit chain, and every stored record against the version the chain names of
    it; name each break and exit 1 on any."""
    from credithub import audit as audit_service
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.records import audited

    with app_context():
        named = audited.Audited()
        chain = audit_service.verify(db.session, visit=named)
        records = audited.check(db.session, named)
        problems = chain.problems + records.problems
    for problem in problems:
        click.echo(f"BROKEN: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"audit chain intact: {chain.entries} entries, head {chain.head_hash}")
    click.echo(f"records match the audit trail: {records.checked} checked")
    if records.content_only:
        click.echo(
            f"  of which {records.content_only} last written before the audit trail carried "
            "version digests: their content checked, not their state"
        )
