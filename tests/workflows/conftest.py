"""The parties of every workflow test: two departments, the joint office, a bidding platform."""

from __future__ import annotations

import pytest

from tests.workflows.helpers import Headers, MakeToken, tokens


@pytest.fixture
def t(make_token: MakeToken) -> dict[str, Headers]:
    return tokens(make_token)
