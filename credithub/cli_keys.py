"""Commands for keys and quarantine: `credithub sync keys`, `credithub sync quarantine`,
`credithub hub rotate-key`."""

from __future__ import annotations

import click


@click.group("keys", invoke_without_command=True)
@click.pass_context
def keys_group(ctx: click.Context) -> None:
    """Every key this hub knows, one line each: its own, pinned and pending ones."""
    if ctx.invoked_subcommand is not None:
        return
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.trust import keys

    with app_context():
        for line in key_lines(keys.listing(db.session)):
            click.echo(line)


def key_lines(found: list[dict[str, object]]) -> list[str]:
    return [f"{k['hub']}\t{k['id']}\t{k['state']}\t{k['source']}\t{k['public_key']}" for k in found]


@keys_group.command("accept")
@click.argument("hub")
@click.argument("key_id")
def keys_accept(hub: str, key_id: str) -> None:
    """Trust HUB's pending key KEY_ID (check it with that hub's operator first)."""
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.errors import ServiceError
    from credithub.trust import keys

    with app_context():
        try:
            with db.transaction() as session:
                keys.accept(session, hub, key_id, "cli")
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"key {key_id} of {hub} pinned")


@click.command("quarantine")
@click.option("--release", is_flag=True, help="write those that verify now with the keys pinned")
def quarantine_command(release: bool) -> None:
    """Record versions held back because their signature failed, newest first."""
    from credithub.cli import app_context
    from credithub.db import db
    from credithub.sync.partners import release_held
    from credithub.trust import quarantine

    with app_context():
        if release:
            with db.transaction() as session:
                done = release_held(session)
            click.echo(
                f"released {done['released']}, still held {done['held']}, "
                f"rejected {done['rejected']}"
            )
            return
        page = quarantine.listing(db.session, 1, 1000, None, False)
    click.echo(f"{page['total']} held")
    for item in page["items"]:
        origin = item["origin"]
        click.echo(
            f"{item['id']}\t{item['at']}\t{item['actor']}\t"
            f"{origin['hub']}|{origin['id']}|v{origin['version']}\t{item['reason']}"
        )


@click.group("hub")
def hub_group() -> None:
    """This hub's own identity."""


@hub_group.command("rotate-key")
def rotate_key() -> None:
    """Replace this hub's signing key with a new one its current key endorses, so partners
    take it without an admin; what the old key signed stays verifiable. The new key goes
    into the instance folder's secrets.toml; a hub whose key is configured elsewhere is shown
    the new key to set there. Takes effect when the server next starts."""
    from flask import current_app

    from credithub.cli import app_context
    from credithub.config import replace_instance_secret
    from credithub.db import db
    from credithub.trust import keys

    with app_context():
        with db.transaction() as session:
            new, kid = keys.rotate(session)
        settings = current_app.extensions["credithub.settings"]
        old = settings.federation.signing_key
        stored = replace_instance_secret(settings, "signing_key", old, new)
    if stored:
        click.echo(f"new signing key {kid} stored in the instance folder; restart the server")
    else:
        click.echo(f'new signing key {kid}: set [federation] signing_key = "{new}", restart')
