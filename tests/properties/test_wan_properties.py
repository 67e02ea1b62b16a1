"""万元 amounts, as properties: an amount of 万元 read into yuan and written back is the same
amount, and so is an amount of yuan written as 万元 and read back: exact decimals, never a
float's rounding."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from schemas.sgs_fields import amount_yuan, yuan_wan

# 万元 with at most 6 decimals is a whole number of fen (0.01 yuan).
wan_amounts = st.decimals(min_value=0, max_value=10**10, places=6)
yuan_amounts = st.decimals(min_value=0, max_value=10**14, places=2)


@given(wan_amounts)
def test_wan_to_yuan_and_back_is_the_same_amount(wan: Decimal) -> None:
    yuan, error = amount_yuan(f"{wan:f}")
    assert error is None
    assert yuan is not None
    assert Decimal(yuan) == wan * 10000
    assert yuan == f"{Decimal(yuan):.2f}"  # two decimals, always
    assert Decimal(yuan_wan(yuan)) == wan


@given(yuan_amounts)
def test_yuan_to_wan_and_back_is_the_same_amount(yuan: Decimal) -> None:
    wan = yuan_wan(f"{yuan:f}")
    assert amount_yuan(wan) == (f"{yuan:.2f}", None)
    assert amount_yuan(f"{wan}万元") == (f"{yuan:.2f}", None)
