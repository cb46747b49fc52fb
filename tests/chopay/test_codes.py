"""The confirmation-code algorithm (chopay.codes): RFC 4226 vectors, the documented test vector, amount binding."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopay import codes

RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def test_it_truncates_exactly_as_rfc_4226():
    # Appendix D of RFC 4226: HMAC-SHA1 over the 8-byte counter.
    for counter, expected in enumerate(RFC4226_CODES):
        assert codes.hotp(RFC4226_SECRET, counter.to_bytes(8, "big"), digestmod="sha1") == expected


def test_it_matches_the_documented_test_vector():
    key = bytes.fromhex(codes.TEST_VECTOR_KEY_HEX)
    assert codes.TEST_VECTOR_KEY_HEX == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    message = codes.message_for(1, 20_000)
    assert message.hex() == "00000000000000010000000000004e20"
    digest = hmac.new(key, message, "sha256").hexdigest()
    assert digest == "27473dc9f08fce56ba44c29da0bae04ae9ebd77ec9ed2ef85470037c8b27e579"
    assert codes.confirmation_code(key, counter=1, amount=20_000) == "605024" == codes.TEST_VECTOR_CODE


def test_it_binds_the_code_to_the_amount():
    key = bytes(range(32))
    code = codes.confirmation_code(key, counter=7, amount=20_000)
    assert codes.code_matches(key, code, counter=7, amount=20_000)
    assert not codes.code_matches(key, code, counter=7, amount=200_000)
    assert not codes.code_matches(key, code, counter=8, amount=20_000)


def test_it_finds_the_counter_within_the_look_ahead_window_only():
    key = bytes(range(32))
    code = codes.confirmation_code(key, counter=15, amount=50_000)
    assert codes.find_counter(key, code, amount=50_000, counters=range(6, 16)) == 15
    assert codes.find_counter(key, code, amount=50_000, counters=range(16, 26)) is None
    assert codes.find_counter(key, "12345", amount=50_000, counters=range(100)) is None


@settings(derandomize=True, max_examples=200)
@given(counter=st.integers(0, 2**64 - 1), amount=st.integers(1, 2**64 - 1), key=st.binary(min_size=32, max_size=32))
def test_it_always_gives_six_ascii_digits(counter, amount, key):
    code = codes.confirmation_code(key, counter=counter, amount=amount)
    assert len(code) == 6 and code.isdigit()
    assert codes.code_matches(key, code, counter=counter, amount=amount)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12 456", "١٢٣٤٥٦", "abcdef"])
def test_it_treats_malformed_codes_as_wrong(bad):
    assert not codes.code_matches(bytes(32), bad, counter=1, amount=1000)
    assert codes.code_tail(bad) == ""
