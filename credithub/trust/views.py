"""Trust endpoints: a hub's signed register, a pushing peer's keys, pinned keys, quarantine."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.db import db
from credithub.errors import Forbidden
from credithub.extensions import Blueprint
from credithub.sync.partners import release_held
from credithub.trust import keys, quarantine
from schemas.sync import (
    ContactAnswerSchema,
    ContactSchema,
    KnownKeysSchema,
    QuarantineArgs,
    QuarantinePageSchema,
    RegisterSchema,
    ReleaseAnswerSchema,
    ReleaseSchema,
)

blp = Blueprint("trust", __name__, url_prefix="/api/v1", description="Federation: keys")


@blp.route("/hub/register")
class Register(MethodView):
    @blp.response(200, RegisterSchema)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """Every key this hub trusts, by hub, signed with its own key (public: a partner that
        pinned this hub's key takes from it the keys of the hubs behind this one)."""
        return keys.register(db.session)


@blp.route("/hub/contact")
class Contact(MethodView):
    @require_scope("records:write")
    @blp.arguments(ContactSchema)
    @blp.response(200, ContactAnswerSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """A peer presents its keys before it pushes (peer hubs). The key of the hub its token
        names is pinned at first contact, or when a pinned key endorses it; another key is
        refused (409) until an admin accepts it. From its register, the keys of the hubs its
        client relays for are pinned where none is. Then what was quarantined from it and now
        verifies is released."""
        client = current_client()
        if client.kind != "peer" or not client.hub:
            raise Forbidden("only a peer hub's token presents keys")
        session = db.session
        hub = client.hub
        pinned = keys.meet(session, hub, body["key"], f"first push by client {client.name}")
        relays = set(client.relays_for or ())
        if relays and "register" in body:
            pinned += keys.take_register(session, hub, body["register"], relays.__contains__)
        released = release_held(session, client.name)
        return {"hub": hub, "pinned": pinned, "released": released["released"]}


@blp.route("/sync/keys")
class Keys(MethodView):
    @require_scope("admin")
    @blp.response(200, KnownKeysSchema)
    def get(self) -> dict[str, Any]:
        """Every key this hub knows: its own, those pinned for other hubs (from configuration,
        first contact, a partner's register, a rotation, an admin) and those pending."""
        return {"keys": keys.listing(db.session)}


@blp.route("/sync/keys/<hub>/<key_id>/accept")
class AcceptKey(MethodView):
    @require_scope("admin")
    @blp.response(200, KnownKeysSchema)
    def post(self, hub: str, key_id: str) -> dict[str, Any]:
        """Trust a pending key of a hub (after checking it with that hub's operator)."""
        return {"keys": [keys.accept(db.session, hub, key_id, current_client().name)]}


@blp.route("/sync/quarantine")
class Quarantine(MethodView):
    @require_scope("admin")
    @blp.arguments(QuarantineArgs, location="query")
    @blp.response(200, QuarantinePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Record versions whose signature failed, newest first, each as it arrived with the
        reason (joint office). `released`: those released since."""
        return quarantine.listing(
            db.session, args["page"], args["page_size"], args.get("actor"), args["released"]
        )


@blp.route("/sync/quarantine/release")
class Release(MethodView):
    @require_scope("admin")
    @blp.arguments(ReleaseSchema)
    @blp.response(200, ReleaseAnswerSchema)
    def post(self, body: dict[str, Any]) -> dict[str, int]:
        """Check quarantined versions (all, or `ids`) again against the keys pinned now, and
        write those that verify; the others stay held."""
        return release_held(db.session, ids=body.get("ids"))
