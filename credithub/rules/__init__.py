"""Rule packs: every number the hub applies, as published data (未经公布的惩戒措施不得实施)."""

from __future__ import annotations

from flask import current_app

from credithub.rules.pack import RulePack


def active_pack() -> RulePack:
    """The rule pack the running hub applies (loaded and checked at start-up)."""
    pack: RulePack = current_app.extensions["credithub.rule_pack"]
    return pack
