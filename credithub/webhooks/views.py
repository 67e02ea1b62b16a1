"""Webhooks (/api/v1/webhooks): any client registers, lists and deletes its own."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView

from credithub.clients.auth import current_client, require_scope
from credithub.clients.models import ANY_SCOPE
from credithub.db import db
from credithub.extensions import Blueprint
from credithub.webhooks import service
from schemas.common import PageArgs
from schemas.webhooks import (
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookDetailSchema,
    WebhookPageSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Notifications: signed events sent to a client's receivers",
)


def _own_addresses() -> list[str]:
    """Where this request reached the hub, as host:port (a webhook may not point back at it)."""
    host = request.host
    if not host.rsplit("]", 1)[-1].count(":"):  # no port: the scheme's own
        host += ":443" if request.scheme == "https" else ":80"
    found = [host]
    server = request.environ.get("SERVER_NAME"), request.environ.get("SERVER_PORT")
    if all(server):
        found.append(f"{server[0]}:{server[1]}")
    return found


@blp.route("")
class Webhooks(MethodView):
    @require_scope(*ANY_SCOPE)
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Register a receiver for events; the answer carries its signing secret, once."""
        hook, secret = service.create(
            db.session, current_client(), body["url"], body["events"], _own_addresses()
        )
        client = current_client().name
        return {**service.listed(hook, client), "secret": secret}

    @require_scope(*ANY_SCOPE)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's webhooks (admin: every client's)."""
        return service.listing(db.session, current_client(), args["page"], args["page_size"])


@blp.route("/<webhook_id>")
class OneWebhook(MethodView):
    @require_scope(*ANY_SCOPE)
    @blp.response(200, WebhookDetailSchema)
    def get(self, webhook_id: str) -> dict[str, Any]:
        """A webhook with its latest deliveries: status, attempts, last error, each try."""
        return service.detail(db.session, current_client(), webhook_id)

    @require_scope(*ANY_SCOPE)
    @blp.response(204)
    def delete(self, webhook_id: str) -> Any:
        """Delete a webhook (own; admin any); events not yet delivered are dropped."""
        service.remove(db.session, current_client(), webhook_id)
        return current_app.response_class(status=204)
