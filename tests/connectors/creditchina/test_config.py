"""Configuration: declared options, ranges, masked secrets; exact 万元 amounts."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from connectors.base import MASK
from connectors.creditchina import CreditChinaConnector
from connectors.errors import ConnectorConfigError
from tests.connectors.creditchina.samples import APP_SECRET

BASE: dict[str, Any] = {
    "name": "nation",
    "type": "creditchina",
    "url": "http://127.0.0.1:9",
    "app_key": "hlbe-hub",
    "app_secret": APP_SECRET,
}


def test_defaults_and_masked_secret() -> None:
    connector = CreditChinaConnector(BASE)
    try:
        assert CreditChinaConnector.type_name == "creditchina"
        public = connector.public_config()
        assert public["app_secret"] == MASK
        assert APP_SECRET not in repr(public)
        assert APP_SECRET not in repr(connector._auth)
        assert {k: public[k] for k in ("timeout_seconds", "batch_size", "hub_id")} == {
            "timeout_seconds": 10,
            "batch_size": 500,
            "hub_id": "creditchina",
        }
        assert (public["backoff_seconds"], public["attempts"]) == (0.5, 4)
        secrets = [o.name for o in CreditChinaConnector.options() if o.secret]
        assert secrets == ["app_secret"]
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_secret": None}, "missing required key 'app_secret'"),
        ({"app_key": None}, "missing required key 'app_key'"),
        ({"url": None}, "missing required key 'url'"),
        ({"url": "ftp://x"}, "url must start with http"),
        ({"batch_size": 1001}, "batch_size must be between 1 and 1000"),
        ({"batch_size": 0}, "batch_size must be between"),
        ({"timeout_seconds": "10"}, "timeout_seconds must be int"),
        ({"backoff_seconds": True}, "backoff_seconds must be float"),
        ({"app_secret": " "}, "app_secret must not be empty"),
        ({"secret": "x"}, "unknown key"),
    ],
)
def test_bad_configuration_is_named(change: dict[str, Any], message: str) -> None:
    config = {k: v for k, v in (BASE | change).items() if v is not None}
    with pytest.raises(ConnectorConfigError, match=message):
        CreditChinaConnector(config)


def test_whole_seconds_are_a_valid_backoff() -> None:
    connector = CreditChinaConnector(BASE | {"backoff_seconds": 1})
    try:
        assert connector.config["backoff_seconds"] == 1.0
        assert isinstance(connector.config["backoff_seconds"], float)
    finally:
        connector.close()


def test_the_connector_imports_neither_flask_nor_the_app() -> None:
    code = (
        "import sys, connectors.creditchina, connectors.creditchina.standin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'credithub'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
