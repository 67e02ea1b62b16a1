"""Federation endpoints: the change feed for peers, this hub's identity, sync status and runs."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app
from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.db import db
from credithub.errors import Conflict, NotFound
from credithub.extensions import Blueprint
from credithub.records import refusals
from credithub.sync import feed, service, states, summary
from credithub.trust import keys
from schemas.sync import (
    CellArgs,
    CellSchema,
    FeedArgs,
    FeedSchema,
    FetchAnswerSchema,
    FetchSchema,
    HubSchema,
    RefusalArgs,
    RefusalPageSchema,
    RunResultSchema,
    SummaryArgs,
    SummarySchema,
    SyncStatusSchema,
)

blp = Blueprint("sync", __name__, url_prefix="/api/v1", description="Federation: feed and sync")


@blp.route("/feed")
class Feed(MethodView):
    @require_scope("feed:read")
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedSchema)
    @blp.alt_response(409, response="CONFLICT")
    def get(self, args: dict[str, Any]) -> Response:
        """Every record change once, in commit order, after a cursor (peer hubs)."""
        reader = current_client().hub
        own = current_app.extensions["credithub.settings"].hub.id
        if reader == own:  # a token issued before such tokens were refused
            raise Conflict(
                f"this peer token names {own!r}, this hub's own id: give each hub its own id "
                "([hub] id in the configuration file), then issue the peer a new token"
            )
        page = feed.read(db.read_session, args["after"], args["limit"], reader)
        # A page is plain JSON already (FeedSchema documents it): encoded once, by orjson.
        body = orjson.dumps(page)
        return current_app.response_class(body, mimetype="application/json")


@blp.route("/feed/summary")
class FeedSummary(MethodView):
    @require_scope("feed:read")
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummarySchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """What this hub holds per origin hub and month of decision: count and digest of the
        records' (origin, id, version), for a partner to reconcile with."""
        hub = current_app.extensions["credithub.settings"].hub.id
        return {"hub": hub, "cells": summary.cells(db.session, args.get("origin"))}


@blp.route("/feed/summary/cell")
class FeedSummaryCell(MethodView):
    @require_scope("feed:read")
    @blp.arguments(CellArgs, location="query")
    @blp.response(200, CellSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The (id, version) at origin of one cell's records, by id, a page after `after`."""
        return summary.cell(db.session, args["origin"], args["month"], args["after"], args["limit"])


@blp.route("/feed/records")
class FeedRecords(MethodView):
    @require_scope("feed:read")
    @blp.arguments(FetchSchema)
    @blp.response(200, FetchAnswerSchema)
    def post(self, body: dict[str, Any]) -> Response:
        """Records by origin key, each at its current version as the feed has it (a partner
        fetches what reconciling found it lacks)."""
        keys = [(key["origin"], key["id"]) for key in body["records"]]
        answer = summary.current(db.session, keys)
        return current_app.response_class(orjson.dumps(answer), mimetype="application/json")


@blp.route("/hub")
class Hub(MethodView):
    @blp.response(200, HubSchema)
    @blp.doc(security=[])
    def get(self) -> dict[str, Any]:
        """This hub's id, name and signing key (public: peers learn whom they talk to, and pin
        the key that signs the records it serves)."""
        hub = current_app.extensions["credithub.settings"].hub
        return {"id": hub.id, "name": hub.name, "key": keys.descriptor(db.session)}


@blp.route("/sync")
class Sync(MethodView):
    @require_scope("admin")
    @blp.response(200, SyncStatusSchema)
    def get(self) -> dict[str, Any]:
        """Per connector: last run, pending changes, dead letters, cursor, lag, last error."""
        return {"connectors": states.status(db.session)}


@blp.route("/sync/refusals")
class Refusals(MethodView):
    @require_scope("admin")
    @blp.arguments(RefusalArgs, location="query")
    @blp.response(200, RefusalPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Refused items, newest first (joint office).

        When, by which client or connector, the origin and authority each claimed, and why: a
        peer's record of an origin it may not send, an authority bound to another hub, a
        version that jumps too far, another department's record or revocation."""
        return refusals.listing(db.session, args["page"], args["page_size"], args.get("actor"))


@blp.route("/sync/<name>/run")
class SyncRun(MethodView):
    @require_scope("admin")
    @blp.response(200, RunResultSchema)
    def post(self, name: str) -> dict[str, Any]:
        """Run one connector now (push, then pull)."""
        if name not in {c["name"] for c in service.configured()}:
            raise NotFound(f"no connector named {name!r}")
        [result] = service.run([name])
        return {
            "connector": result.connector,
            "ok": result.ok,
            "pushed": result.pushed,
            "skipped": result.skipped,
            "dead": result.dead,
            "pulled": result.pulled,
            "applied": result.applied,
            "rejected": result.rejected,
            "quarantined": result.quarantined,
            "released": result.released,
            "errors": result.errors,
        }
