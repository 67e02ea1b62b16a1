"""The active rule pack, public (/api/v1/rules): 未经公布的惩戒措施不得实施."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from credithub.extensions import Blueprint
from credithub.rules.pack import RulePack
from schemas.rules import RulePackSchema

blp = Blueprint(
    "rules",
    __name__,
    url_prefix="/api/v1/rules",
    description="The active rule pack (public): lists, measures and their legal basis, "
    "severity classes, publication periods, misconduct points, score levels",
)


def active_pack() -> RulePack:
    """The rule pack the app was started with."""
    pack: RulePack = current_app.extensions["credithub.rule_pack"]
    return pack


@blp.route("")
class Rules(MethodView):
    # No token: a measure may only be applied once it is published, so anyone may read them.
    @blp.doc(security=[])
    @blp.response(200, RulePackSchema)
    def get(self) -> dict[str, Any]:
        """The active rule pack, with every measure's legal basis."""
        return active_pack().to_public()
