"""Identifiers people type: merchant codes (Damm check digit) and Vietnamese
mobile numbers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopay.identifiers import (
    MERCHANT_CODE_LENGTH,
    damm_check_digit,
    display_vn_mobile,
    generate_merchant_code,
    is_valid_merchant_code,
    mask_account,
    normalize_vn_mobile,
)


def _sample_codes(n: int = 200) -> list[str]:
    return [generate_merchant_code() for _ in range(n)]


def test_it_generates_eight_digit_codes_that_check():
    for code in _sample_codes(1000):
        assert len(code) == MERCHANT_CODE_LENGTH == 8
        assert code.isascii() and code.isdigit()
        assert code[0] != "0"
        assert is_valid_merchant_code(code)


def test_it_generates_codes_that_do_not_repeat_much():
    codes = _sample_codes(2000)
    # 9 million codes: a handful of birthday collisions at most in 2,000 draws.
    assert len(set(codes)) >= 1995


def test_it_catches_every_single_digit_substitution():
    for code in _sample_codes():
        for position in range(len(code)):
            for digit in "0123456789":
                if digit == code[position]:
                    continue
                typo = code[:position] + digit + code[position + 1 :]
                assert not is_valid_merchant_code(typo), (code, typo)


def test_it_catches_every_adjacent_transposition():
    for code in _sample_codes():
        for position in range(len(code) - 1):
            a, b = code[position], code[position + 1]
            if a == b:
                continue
            swapped = code[:position] + b + a + code[position + 2 :]
            assert not is_valid_merchant_code(swapped), (code, swapped)


def test_it_catches_every_single_error_over_all_bodies_of_two_digits():
    # The quasigroup property is independent of length: exhaustive on a small space.
    for n in range(100):
        body = f"{n:02d}"
        code = body + damm_check_digit(body)
        assert damm_check_digit(code) == "0"
        for position in range(3):
            for digit in "0123456789":
                if digit != code[position]:
                    assert damm_check_digit(code[:position] + digit + code[position + 1 :]) != "0"
        for position in range(2):
            if code[position] != code[position + 1]:
                swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
                assert damm_check_digit(swapped) != "0"


@given(st.integers(min_value=1_000_000, max_value=9_999_999), st.data())
def test_it_catches_random_single_errors(body, data):
    code = str(body) + damm_check_digit(str(body))
    position = data.draw(st.integers(0, len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[position]]))

    assert is_valid_merchant_code(code)
    assert not is_valid_merchant_code(code[:position] + digit + code[position + 1 :])


def test_it_matches_the_published_damm_example():
    # Wikipedia's worked example: 572 → check digit 4.
    assert damm_check_digit("572") == "4"
    assert damm_check_digit("5724") == "0"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "1234567",  # too short
        "123456789",  # too long
        "1234 567",
        "abcdefgh",
        "１２３４５６７８",  # full-width digits
        "1234567²",  # superscript two: isdigit() but not a digit one can type
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    ],
)
def test_it_refuses_malformed_codes_without_crashing(code):
    assert is_valid_merchant_code(code) is False


def test_it_computes_check_digits_only_over_ascii_digits():
    with pytest.raises(ValueError):
        damm_check_digit("12a4")


def test_it_refuses_a_code_with_a_wrong_check_digit():
    code = generate_merchant_code()
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not is_valid_merchant_code(wrong)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0912345678", "+84912345678"),
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0912-345-678", "+84912345678"),
        ("(091) 234 5678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0388123456", "+84388123456"),  # Viettel 03x
        ("0868123456", "+84868123456"),  # Viettel 086
        ("0888123456", "+84888123456"),  # Vinaphone 088
        ("0703123456", "+84703123456"),  # MobiFone 070
        ("0523123456", "+84523123456"),  # Vietnamobile 052
        ("0593123456", "+84593123456"),  # Gmobile 059
        ("0873123456", "+84873123456"),  # Itel 087
        (" 0912345678 ", "+84912345678"),
    ],
)
def test_it_normalises_vietnamese_mobile_numbers(raw, expected):
    assert normalize_vn_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",  # short number
        "1900 1234",  # hotline
        "024 3825 1234",  # Hà Nội landline
        "02438251234",
        "028 3829 1234",  # Hồ Chí Minh City landline
        "0168 123 4567",  # old 11-digit Viettel number, renumbered in 2018
        "01681234567",
        "0123 456 789",  # old Vinaphone prefix 012x
        "091234567",  # nine digits
        "09123456789",  # eleven digits
        "+8491234567",
        "+849123456789",
        "8491234567",
        "0012345678",
        "0212345678",  # 02x is a landline area
        "+1 912 345 678",
        "09123456ab",
        "０９１２３４５６７８",  # full-width digits
        "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "0912３４５６７８",  # ASCII prefix, full-width rest
        "+84912٣٤٥٦٧٨",
    ],
)
def test_it_refuses_what_is_not_a_vietnamese_mobile_number(raw):
    assert normalize_vn_mobile(raw) is None


def test_it_survives_none():
    assert normalize_vn_mobile(None) is None  # type: ignore[arg-type]


# Text shaped like what a volunteer types: a number written one of the ways
# people write it (some with a wrong network prefix, a digit too many or too
# few, a non-ASCII digit), with separators. Plain random text is never a valid
# number, so a property over it alone would never reach its checks.
_digit = st.one_of(st.sampled_from("0123456789"), st.characters(categories=["Nd"]))
_phone_like = st.builds(
    lambda lead, network, rest, sep: lead + sep.join([network, "".join(rest)]),
    st.sampled_from(["0", "+84", "84", "+84 ", "(+84) ", "", "+85", "00"]),
    st.one_of(
        st.sampled_from(["91", "32", "86", "70", "52", "99", "12", "60", "80"]), st.text("0123456789", max_size=3)
    ),
    st.one_of(st.text("0123456789", min_size=7, max_size=7), st.lists(_digit, min_size=6, max_size=8)),
    st.sampled_from(["", " ", ".", "-", "  "]),
)


def test_it_returns_e164_ascii_or_nothing():
    outcomes: list[bool] = []

    @settings(derandomize=True, max_examples=400)
    @given(st.one_of(st.text(max_size=20), _phone_like))
    def check(raw: str) -> None:
        result = normalize_vn_mobile(raw)
        outcomes.append(result is not None)
        if result is not None:
            assert result.startswith("+84")
            assert len(result) == 12
            assert result[1:].isascii() and result[1:].isdigit()
            assert normalize_vn_mobile(result) == result

    check()

    # Both branches were exercised: some inputs were numbers, some were not.
    assert 0 < sum(outcomes) < len(outcomes), (sum(outcomes), len(outcomes))


def test_it_displays_a_number_as_people_write_it():
    assert display_vn_mobile("+84912345678") == "0912 345 678"
    assert display_vn_mobile("12345") == "12345"


def test_it_masks_all_but_the_last_four_characters():
    assert mask_account("0987654321") == "••••••4321"
    assert mask_account("1234") == "1234"


def test_it_round_trips_random_valid_numbers():
    rng = random.Random(4)
    for prefix in ["032", "039", "052", "055", "056", "058", "059", "070", "076", "079", "081", "089", "090", "099"]:
        local = prefix + f"{rng.randrange(10**7):07d}"
        e164 = normalize_vn_mobile(local)
        assert e164 == "+84" + local[1:]
        assert normalize_vn_mobile(display_vn_mobile(e164)) == e164
