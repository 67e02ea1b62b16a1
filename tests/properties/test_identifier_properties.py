"""Identifiers, as properties: every USCC (GB 32100) and resident ID number (GB 11643) built
by the standards' own rules is accepted, and any single character changed is refused."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credithub.entities.identifiers import (
    USCC_ALPHABET,
    IdentifierError,
    org_code_check_char,
    parse_id_card,
    parse_uscc,
    uscc_check_char,
)

# What a changed character can become: any other digit or capital letter (a lower-case letter
# would be the same character once normalised).
REPLACEMENTS = string.digits + string.ascii_uppercase

uscc_char = st.sampled_from(USCC_ALPHABET)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    """Registration authority and kind, region (6 digits), organization code body (8) and its
    GB 11714 check character, then the GB 32100 check character."""
    kind = draw(uscc_char) + draw(uscc_char)
    region = "".join(draw(st.lists(st.sampled_from(string.digits), min_size=6, max_size=6)))
    body = "".join(draw(st.lists(uscc_char, min_size=8, max_size=8)))
    first17 = kind + region + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


# GB 11643: weight of position i (from the left, 1-based) is 2^(18-i) mod 11; the check
# character is the one whose value makes the weighted sum 1 mod 11, 10 written as X.
ID_WEIGHTS = [2 ** (18 - i) % 11 for i in range(1, 18)]


def id_check(first17: str) -> str:
    value = (12 - sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    province = draw(st.integers(min_value=11, max_value=83))
    place = draw(st.integers(min_value=0, max_value=9999))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
    sequence = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{province:02d}{place:04d}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check(first17)


def changed(value: str, position: int, replacement: str) -> str:
    return value[:position] + replacement + value[position + 1 :]


@given(usccs())
def test_a_well_formed_uscc_is_accepted(code: str) -> None:
    uscc, warnings = parse_uscc(code)
    assert (uscc.code, warnings) == (code, [])


@given(usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(REPLACEMENTS))
def test_a_uscc_with_any_character_changed_is_refused(
    code: str, position: int, replacement: str
) -> None:
    if code[position] == replacement:
        replacement = REPLACEMENTS[(REPLACEMENTS.index(replacement) + 1) % len(REPLACEMENTS)]
    with pytest.raises(IdentifierError):
        parse_uscc(changed(code, position, replacement))


@given(id_numbers())
def test_a_well_formed_id_number_is_accepted(number: str) -> None:
    assert parse_id_card(number) == number


@given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from(REPLACEMENTS))
def test_an_id_number_with_any_character_changed_is_refused(
    number: str, position: int, replacement: str
) -> None:
    if number[position] == replacement:
        replacement = REPLACEMENTS[(REPLACEMENTS.index(replacement) + 1) % len(REPLACEMENTS)]
    with pytest.raises(IdentifierError):
        parse_id_card(changed(number, position, replacement))
