"""`/api/v1/docs`: the OpenAPI document (`/api/v1/openapi.json`) as a browsable page.

Swagger UI comes from the `swagger-ui-bundle` package and is served from the hub under
`/api/v1/docs/assets/`, so the page needs no outside network. Public, as the document is.
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import NotFound

bp = Blueprint("docs", __name__, url_prefix="/api/v1/docs")

# The files of the bundle the page loads (and the source maps a browser's tools ask for).
ASSETS = frozenset(
    {"swagger-ui.css", "swagger-ui.css.map", "swagger-ui-bundle.js", "swagger-ui-bundle.js.map"}
)

# This page only: Swagger UI is a script, so scripts from the hub itself run (the initializer
# is a static file: still no inline script); it reads the OpenAPI document and sends the
# operations tried from the page to the hub (connect-src 'self').
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@bp.get("")
@bp.get("/")
def page() -> Response:
    response = make_response(render_template("apidocs/index.html"))
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound()
    return send_from_directory(swagger_ui_path, name, max_age=24 * 3600)
