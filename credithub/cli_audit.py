"""Commands for the audit trail: `credithub audit verify` and `credithub audit anchor`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--anchors",
    "anchors",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="an anchor file, or a directory of them (`audit.anchor_dir`): each anchored entry "
    "must still be in the chain with its hash, and each anchor signed by this hub's key",
)
def audit_verify(anchors: Path | None) -> None:
    """Verify the audit chain, and every stored record against the version the chain names of
    it (and the chain against anchors, if given); name each break and exit 1 on any."""
    from credithub import audit as audit_service
    from credithub.audit import anchor
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.records import audited

    with app_context():
        named = audited.Audited()
        chain = audit_service.verify(db.session, visit=named)
        records = audited.check(db.session, named)
        problems = chain.problems + records.problems
        found = anchor.load(anchors) if anchors is not None else []
        if anchors is not None:
            problems += anchor.check(db.session, found)
    for problem in problems:
        click.echo(f"BROKEN: {problem}", err=True)
    if anchors is not None and not found:
        click.echo(f"BROKEN: no anchor found in {anchors}", err=True)
        sys.exit(1)
    if problems:
        sys.exit(1)
    click.echo(f"audit chain intact: {chain.entries} entries, head {chain.head_hash}")
    click.echo(f"records match the audit trail: {records.checked} checked")
    if records.content_only:
        click.echo(
            f"  of which {records.content_only} last written before the audit trail carried "
            "version digests: their content checked, not their state"
        )
    if anchors is not None:
        click.echo(f"anchors hold: {len(found)} checked")


@audit_group.command("anchor")
@click.option(
    "--out",
    type=click.Path(dir_okay=True, path_type=Path),
    default=None,
    help="write the anchor to this file, or into this directory (default: print it)",
)
def audit_anchor(out: Path | None) -> None:
    """The chain's head (sequence number, hash, time, hub id) signed with this hub's key: keep
    it where the database role cannot rewrite it, for `audit verify --anchors`."""
    from credithub.audit import anchor
    from credithub.cli import app_context
    from credithub.db import db

    with app_context():
        with db.transaction() as session:
            signed = anchor.head(session)
        if out is None:
            click.echo(orjson.dumps(signed, option=orjson.OPT_INDENT_2).decode())
            return
        try:
            written = anchor.write(signed, out)
        except FileExistsError:
            raise click.ClickException(f"{out} exists: an anchor is never overwritten") from None
    click.echo(f"anchored entry {signed['seq']} ({signed['hash']}) in {written}")
