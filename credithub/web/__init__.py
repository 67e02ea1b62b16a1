"""The pages: server-rendered HTML in Chinese, no front-end build step.

One place sets what every page shares: CSRF protection on every form (Flask-WTF), the
security headers (a strict Content-Security-Policy: no inline script, no outside origin), and
HTML error pages for the page blueprints. The API keeps its JSON errors and its bearer tokens;
nothing here runs for `/api/` requests but the headers of the API's own docs page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from credithub.errors import ServiceError

csrf = CSRFProtect()

# Pages draw charts as inline SVG and load only the hub's own stylesheet; forms post to the
# hub itself. Nothing may frame a page.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    # The API authenticates with bearer tokens, which a browser never sends by itself: CSRF
    # is checked by the page blueprints (page_blueprint), not on every POST of the app.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    # Flask's own defaults hold these keys already (SameSite None): setdefault would keep them.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    csrf.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        if response.mimetype == "text/html":
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        return response


def page_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint of pages: every form it receives carries a valid CSRF token, and its
    errors are answered as an HTML page (with the same status) rather than JSON."""
    bp = Blueprint(name, import_name, **options)

    @bp.before_request
    def _csrf() -> None:
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            csrf.protect()

    @bp.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        return error_page(400, "表单已过期或来源不明,请返回页面刷新后重新提交。"), 400

    @bp.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> tuple[str, int]:
        return error_page(error.status, error.message, error.errors), error.status

    @bp.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return error_page(code, error.description or error.name), code

    return bp


def error_page(code: int, message: str, errors: dict[str, Any] | None = None) -> str:
    return render_template("error.html", code=code, message=message, errors=errors or {})
