"""Fixtures: a live stand-in of the national exchange on 127.0.0.1 and connectors aimed at it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.creditchina import CreditChinaConnector
from connectors.creditchina.standin import StandIn
from tests.connectors.creditchina.samples import APP_KEY, APP_SECRET, PENALTY


@pytest.fixture
def standin() -> Iterator[StandIn]:
    stand = StandIn(APP_KEY, APP_SECRET).start()
    yield stand
    stand.stop()


@pytest.fixture
def make_connector(standin: StandIn) -> Iterator[Callable[..., CreditChinaConnector]]:
    """Build connectors aimed at the stand-in (fast backoff); keyword arguments override."""
    made: list[CreditChinaConnector] = []

    def make(**overrides: Any) -> CreditChinaConnector:
        config: dict[str, Any] = {
            "name": "nation",
            "type": "creditchina",
            "url": standin.url,
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "backoff_seconds": 0.01,
        }
        connector = CreditChinaConnector(config | overrides)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def penalty_item() -> Callable[..., dict[str, Any]]:
    """Build a feed item of a penalty; keyword arguments override record fields."""
    counter = iter(range(1, 10_000))

    def make(op: str = "upsert", cursor: str | None = None, **fields: Any) -> dict[str, Any]:
        n = next(counter)
        record = copy.deepcopy(PENALTY)
        record["ref"] = f"呼市监罚〔2025〕{n}号"
        record["origin"] = {"hub": "hlbe", "id": f"rec-{n}", "version": 1}
        record.update(fields)
        return {"cursor": cursor or str(n), "op": op, "record": record}

    return make
