"""Tests for credithub.entities.identifiers (domain.md §2)."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import timedelta

import pytest

from credithub import clock
from credithub.entities.identifiers import (
    LEGACY_SCHEMES,
    USCC_ALPHABET,
    IdentifierError,
    looks_like_id_number,
    mask_id_number,
    normalize,
    org_code_check_char,
    parse_id_card,
    parse_legacy,
    parse_org_code,
    parse_uscc,
    uscc_check_char,
)

VALID_USCC = [
    "91230500MA1B3N1N2M",
    "11230500001755309F",
    "91512081MA62K0260E",
    "914403001922038216",
]
FUJIAN_EXCEPTIONS = ["91350100M0001TGQXM", "91350211M0000XUF46", "91350203M0001FUE2P"]
ID_NUMBER = "11010519491231002X"
# Valid as an ID number and as a USCC at the same time (found by search, see the report).
ID_AND_USCC = "110105200109111900"


def with_id_check(first17: str) -> str:
    """Append the GB 11643 check character, computed independently of the module."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return (
        first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    )


def with_uscc_check(first17: str) -> str:
    """Append the GB 32100 check character, computed independently of the module."""
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_ALPHABET[-total % 31]


# --- USCC -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_uscc_passes_both_checks(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    assert org_code_check_char(code[8:16]) == code[16]
    uscc, warnings = parse_uscc(code)
    assert uscc.code == code
    assert uscc.exception is False
    assert warnings == []


def test_uscc_fields() -> None:
    uscc, _ = parse_uscc("91230500ma1b3n1n2m")
    assert uscc.code == "91230500MA1B3N1N2M"
    assert uscc.kind_code == "91"
    assert uscc.region == "230500"
    assert uscc.org_code == "MA1B3N1N2"
    assert uscc.subject_type == "organization"
    with pytest.raises(dataclasses.FrozenInstanceError):
        uscc.code = "x"  # type: ignore[misc]


def test_org_code_check_maps_ten_to_x_and_eleven_to_zero() -> None:
    assert org_code_check_char("M0001TGQ") == "X"  # from 91350100M0001TGQXM
    assert org_code_check_char("MA62K026") == "0"  # from 91512081MA62K0260E


@pytest.mark.parametrize("bad", ["9123050OMA1B3N1N2", "9123050-MA1B3N1N2", "91230500MA1B3N1N2M"])
def test_uscc_check_char_rejects_bad_input(bad: str) -> None:
    with pytest.raises(IdentifierError) as info:
        uscc_check_char(bad)
    assert info.value.scheme == "uscc"


def test_org_code_check_char_rejects_bad_input() -> None:
    with pytest.raises(IdentifierError, match="position 3"):
        org_code_check_char("MA-B3N1N")
    with pytest.raises(IdentifierError, match="8 characters"):
        org_code_check_char("MA1B3N1")


def test_check_character_error_message() -> None:
    with pytest.raises(IdentifierError) as info:
        parse_uscc("91230500MA1B3N1N2X")
    assert str(info.value) == "uscc: check character should be 'M', got 'X'"
    assert info.value.scheme == "uscc"
    assert info.value.reason == "check character should be 'M', got 'X'"
    assert isinstance(info.value, ValueError)


def test_org_code_check_is_verified_inside_uscc() -> None:
    # Position 18 is recomputed so that only the embedded GB 11714 check is wrong.
    code = with_uscc_check("91230500MA1B3N1N3")
    assert uscc_check_char(code[:17]) == code[17]
    with pytest.raises(IdentifierError) as info:
        parse_uscc(code)
    assert info.value.reason == (
        "organization code check character (position 17) should be '2', got '3'"
    )


@pytest.mark.parametrize("code", FUJIAN_EXCEPTIONS)
def test_known_exception_is_rejected_without_allow_list(code: str) -> None:
    with pytest.raises(IdentifierError, match=r"^uscc: check character should be '.', got"):
        parse_uscc(code)


@pytest.mark.parametrize("code", FUJIAN_EXCEPTIONS)
def test_known_exception_passes_with_warning_when_allow_listed(code: str) -> None:
    uscc, warnings = parse_uscc(code, allow=FUJIAN_EXCEPTIONS)
    assert uscc.code == code
    assert uscc.exception is True
    assert warnings == [
        f"uscc {code} fails the check digit but is on the allow-list of known legal exceptions"
    ]


def test_allow_list_is_compared_normalized() -> None:
    uscc, warnings = parse_uscc(
        "９１３５０１００ｍ０００１ｔｇｑｘｍ", allow={" 91350100m0001tgqxm "}
    )
    assert uscc.code == "91350100M0001TGQXM"
    assert uscc.exception is True
    assert len(warnings) == 1


def test_allow_list_only_covers_listed_codes() -> None:
    with pytest.raises(IdentifierError):
        parse_uscc("91350211M0000XUF46", allow=["91350100M0001TGQXM"])


def test_allow_list_given_as_bare_string_is_one_code_not_substrings() -> None:
    assert parse_uscc("91350100M0001TGQXM", allow="91350100M0001TGQXM")[0].exception
    with pytest.raises(IdentifierError):
        parse_uscc("91350100M0001TGQXM", allow="X91350100M0001TGQXM91350211M0000XUF46")


def test_allow_list_does_not_excuse_structural_errors() -> None:
    bad = "91350100M0001TGQXI"
    with pytest.raises(IdentifierError, match="position 18"):
        parse_uscc(bad, allow=[bad])


@pytest.mark.parametrize(
    "raw",
    [
        "９１２３０５００ＭＡ１Ｂ３Ｎ１Ｎ２Ｍ",
        "91230500ma1b3n1n2m",
        "9123 0500 MA1B 3N1N 2M",
        "\u300091230500MA1B3N1N2M\u3000",
        "91230500\u3000MA1B3N1N2M",
        "\t91230500MA1B3N1N2M\r\n",
        "\ufeff91230500MA1B\u200b3N1N2M",
    ],
)
def test_normalisation_yields_the_same_code(raw: str) -> None:
    assert normalize(raw) == "91230500MA1B3N1N2M"
    assert parse_uscc(raw)[0].code == "91230500MA1B3N1N2M"


def test_normalize_keeps_hyphens() -> None:
    assert normalize("ma1b3n1n－2") == "MA1B3N1N-2"


@pytest.mark.parametrize("code", VALID_USCC)
def test_every_single_character_typo_is_rejected(code: str) -> None:
    for position in range(18):
        for substitute in USCC_ALPHABET + "IOSVZ-":
            if substitute == code[position]:
                continue
            typo = code[:position] + substitute + code[position + 1 :]
            with pytest.raises(IdentifierError):
                parse_uscc(typo)


@pytest.mark.parametrize("letter", list("IOZSV"))
@pytest.mark.parametrize("position", [1, 10, 18])
def test_forbidden_letters_are_named_with_their_position(letter: str, position: int) -> None:
    code = VALID_USCC[0]
    bad = code[: position - 1] + letter + code[position:]
    with pytest.raises(IdentifierError) as info:
        parse_uscc(bad)
    assert f"{letter!r} at position {position} is not allowed" in str(info.value)
    assert "never used" in str(info.value)


def test_region_must_be_digits() -> None:
    code = with_uscc_check("91A30500MA1B3N1N2")
    with pytest.raises(IdentifierError, match="'A' at position 3"):
        parse_uscc(code)


@pytest.mark.parametrize("raw", ["", "91230500MA1B3N1N2", "91230500MA1B3N1N2MM"])
def test_uscc_wrong_length(raw: str) -> None:
    with pytest.raises(IdentifierError, match="must be 18 characters"):
        parse_uscc(raw)


@pytest.mark.parametrize(
    ("kind", "subject_type"),
    [
        ("92", "individual_business"),
        *[(k, "organization") for k in ["91", "11", "12", "51", "52", "53", "93", "Y1"]],
    ],
)
def test_kind_code_sets_subject_type(kind: str, subject_type: str) -> None:
    code = with_uscc_check(kind + "230500MA1B3N1N2")
    uscc, warnings = parse_uscc(code)
    assert uscc.kind_code == kind
    assert uscc.subject_type == subject_type
    assert warnings == []


# --- ID-card number -------------------------------------------------------------------------


def test_id_card_passes_and_is_normalized() -> None:
    assert parse_id_card(ID_NUMBER) == ID_NUMBER
    assert parse_id_card("11010519491231002x") == ID_NUMBER
    assert parse_id_card("１１０１０５ 1949 1231 002x") == ID_NUMBER


def test_id_card_birth_date_bounds() -> None:
    assert parse_id_card(with_id_check(f"110105{clock.today():%Y%m%d}001"))
    assert parse_id_card(with_id_check("11010519000101001"))
    with pytest.raises(IdentifierError, match="before 1900"):
        parse_id_card(with_id_check("11010518991231001"))


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check character is wrong"),
        (with_id_check("11010520000230001"), "not a real calendar date"),
        (with_id_check(f"110105{clock.today() + timedelta(days=1):%Y%m%d}001"), "in the future"),
        ("11010519491231002", "18 characters"),
        ("1101051949123100X2", "position 17 must be a digit"),
        ("110105A9491231002X", "position 7 must be a digit"),
        ("11010519491231002A", "position 18 must be a digit or X"),
        (with_id_check("99010519491231002"), "province"),
        (with_id_check("10010519491231002"), "province"),
    ],
)
def test_id_card_rejections_never_echo_the_number(number: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_id_card(number)
    assert info.value.scheme == "id_number"
    assert reason in info.value.reason
    message = str(info.value)
    assert message.startswith("id_number: ")
    assert number[:17] not in message
    assert number[6:14] not in message  # nor the birth date


def test_mask_id_number() -> None:
    assert mask_id_number(ID_NUMBER) == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"
    assert mask_id_number("110105491231002") == "110105*****1002"
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("12345678901234") == "*" * 14
    assert mask_id_number("") == ""


# --- organization code and legacy identifiers -----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MA1B3N1N-2", "MA1B3N1N2"),
        ("MA1B3N1N2", "MA1B3N1N2"),
        ("ma1b3n1n－2", "MA1B3N1N2"),
        ("19220382-1", "192203821"),
        ("00175530 9", "001755309"),
        ("M0001TGQ-X", "M0001TGQX"),
    ],
)
def test_org_code_from_known_uscc(raw: str, expected: str) -> None:
    assert parse_org_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("MA1B3N1N-3", "check character should be '2', got '3'"),
        ("MA1B3N1N3", "check character should be '2', got '3'"),
        ("MA1B3N1-N2", "must be 9 characters"),
        ("MA1B3N1-2", "position 8"),
        ("MA1B-3N1N-2", "must be 9 characters"),
        ("MA1B3N1N", "must be 9 characters"),
        ("MA1B3N1N\u4e2d", "position 9"),
    ],
)
def test_org_code_rejections(raw: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_org_code(raw)
    assert info.value.scheme == "org_code"
    assert reason in info.value.reason


def test_legacy_schemes() -> None:
    assert LEGACY_SCHEMES == {
        "business_reg": "工商注册号",
        "org_code": "组织机构代码",
        "tax_reg": "税务登记号",
        "institution_cert": "事业单位证书号",
        "social_org_cert": "社会组织登记证号",
    }


@pytest.mark.parametrize(
    "scheme", ["business_reg", "tax_reg", "institution_cert", "social_org_cert"]
)
def test_legacy_shape_only(scheme: str) -> None:
    assert parse_legacy(scheme, " 350100 4000 1234 5 ") == "350100400012345"
    assert parse_legacy(scheme, "ab1234") == "AB1234"
    assert parse_legacy(scheme, "1" * 30) == "1" * 30
    for bad in ["", "12345", "1" * 31, "3501-0040001", "350100中400012"]:
        with pytest.raises(IdentifierError) as info:
            parse_legacy(scheme, bad)
        assert info.value.scheme == scheme


def test_legacy_org_code_is_checked() -> None:
    assert parse_legacy("org_code", "MA1B3N1N-2") == "MA1B3N1N2"
    with pytest.raises(IdentifierError, match="check character"):
        parse_legacy("org_code", "MA1B3N1N-3")


def test_legacy_unknown_scheme() -> None:
    with pytest.raises(IdentifierError) as info:
        parse_legacy("passport", "E12345678")
    assert info.value.scheme == "passport"
    assert info.value.reason == "unknown identifier scheme"


# --- looks_like_id_number and the error type ------------------------------------------------


def test_looks_like_id_number() -> None:
    assert looks_like_id_number(ID_NUMBER)
    assert looks_like_id_number("11010519491231002x")
    assert looks_like_id_number(" 110105 19491231 002X ")


@pytest.mark.parametrize(
    "value",
    [*VALID_USCC, *FUJIAN_EXCEPTIONS, "", "junk", "110105194912310021", "\ud800", "9" * 1000],
)
def test_does_not_look_like_id_number(value: str) -> None:
    assert looks_like_id_number(value) is False


def test_looks_like_id_number_agrees_with_parse_id_card() -> None:
    # Its shortcuts (shape, province code) only refuse what parse_id_card refuses too.
    def parses(value: str) -> bool:
        try:
            parse_id_card(value)
        except IdentifierError:
            return False
        return True

    values = []
    for province in ("00", "10", "11", "45", "82", "83", "84", "91", "99"):
        for body in ("010519491231002", "010520010911190", "150700000000107"):
            first17 = province + body
            values += [with_id_check(first17), first17 + "0", first17 + "X", first17 + "x"]
    assert any(parses(v) for v in values)
    assert not all(parses(v) for v in values)
    for value in values:
        assert looks_like_id_number(value) is parses(value), value


def test_looks_like_id_number_never_raises_on_non_strings() -> None:
    assert looks_like_id_number(None) is False  # type: ignore[arg-type]
    assert looks_like_id_number(11010519491231002) is False  # type: ignore[arg-type]


def test_value_valid_as_both_is_treated_as_id_number() -> None:
    assert parse_id_card(ID_AND_USCC) == ID_AND_USCC
    assert parse_uscc(ID_AND_USCC)[0].exception is False
    assert looks_like_id_number(ID_AND_USCC) is True


def test_identifier_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(IdentifierError("uscc", "bad")))  # noqa: S301
    assert (error.scheme, error.reason, str(error)) == ("uscc", "bad", "uscc: bad")
