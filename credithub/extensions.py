"""The API extension: flask-smorest, with the hub's own error handlers and bearer security."""

from __future__ import annotations

from typing import Any

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser


class Api(_Api):
    """flask-smorest's Api; errors are rendered by credithub.errors, not by flask-smorest."""

    def _register_error_handlers(self) -> None:
        pass

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "a client token"}
        )


class _Parser(FlaskParser):
    # webargs drops unknown query parameters by default; let each schema's Meta.unknown decide
    # (RAISE on every input schema), so a misspelt filter is an error, not a silent no-op.
    DEFAULT_UNKNOWN_BY_LOCATION = dict.fromkeys(FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION)


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint, with the strict argument parser."""

    ARGUMENTS_PARSER = _Parser()
