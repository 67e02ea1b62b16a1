"""Releasing held versions by id: an id no integer column can hold is refused, naming it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize("bad", [2**31, 765412283531, 0, -3])
def test_an_id_out_of_range_is_a_422_naming_it(
    client: FlaskClient, make_token: Callable[..., dict[str, str]], bad: int
) -> None:
    resp = client.post(
        "/api/v1/sync/quarantine/release", json={"ids": [177, bad]}, headers=make_token("admin")
    )
    assert resp.status_code == 422, resp.get_json()
    assert list(resp.get_json()["errors"]["ids"]) == ["1"]


def test_ids_in_range_release_what_they_name(
    client: FlaskClient, make_token: Callable[..., dict[str, str]]
) -> None:
    resp = client.post(
        "/api/v1/sync/quarantine/release", json={"ids": [1, 2**31 - 1]}, headers=make_token("admin")
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["released"] == 0  # nothing held here
