"""The confirmation-code algorithm and the vendor's offline key."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import confirmation
from payments.models import ConfirmationCode, OfflineKeyGrant
from tests.conftest import client_for
from tests.payments._code_entry import code_for, code_in_sms, pay, sms, ussd_secret

__all__ = ["sms", "ussd_secret"]  # fixtures

RFC4226_SECRET = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def test_it_truncates_exactly_as_rfc_4226():
    # Appendix D of RFC 4226: HMAC-SHA1 over the 8-byte counter.
    for counter, expected in enumerate(RFC4226_CODES):
        assert confirmation.hotp(RFC4226_SECRET, counter.to_bytes(8, "big"), digestmod="sha1") == expected


def test_it_matches_the_documented_test_vector():
    key = bytes.fromhex(confirmation.TEST_VECTOR_KEY_HEX)
    assert confirmation.TEST_VECTOR_KEY_HEX == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    message = confirmation.message_for(1, 20_000)
    assert message.hex() == "00000000000000010000000000004e20"
    digest = hmac.new(key, message, "sha256").hexdigest()
    assert digest == "27473dc9f08fce56ba44c29da0bae04ae9ebd77ec9ed2ef85470037c8b27e579"
    assert confirmation.confirmation_code(key, counter=1, amount=20_000) == "605024" == confirmation.TEST_VECTOR_CODE


def test_it_binds_the_code_to_the_amount():
    key = bytes(range(32))
    code = confirmation.confirmation_code(key, counter=7, amount=20_000)
    assert confirmation.code_matches(key, code, counter=7, amount=20_000)
    assert not confirmation.code_matches(key, code, counter=7, amount=200_000)
    assert not confirmation.code_matches(key, code, counter=8, amount=20_000)


def test_it_finds_the_counter_within_the_look_ahead_window_only():
    key = bytes(range(32))
    code = confirmation.confirmation_code(key, counter=15, amount=50_000)
    assert confirmation.find_counter(key, code, amount=50_000, counters=range(6, 16)) == 15
    assert confirmation.find_counter(key, code, amount=50_000, counters=range(16, 26)) is None
    assert confirmation.find_counter(key, "12345", amount=50_000, counters=range(100)) is None


@given(counter=st.integers(0, 2**64 - 1), amount=st.integers(1, 2**64 - 1), key=st.binary(min_size=32, max_size=32))
def test_it_always_gives_six_ascii_digits(counter, amount, key):
    code = confirmation.confirmation_code(key, counter=counter, amount=amount)
    assert len(code) == 6 and code.isdigit()
    assert confirmation.code_matches(key, code, counter=counter, amount=amount)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12 456", "١٢٣٤٥٦", "abcdef"])
def test_it_treats_malformed_codes_as_wrong(bad):
    assert not confirmation.code_matches(bytes(32), bad, counter=1, amount=1000)
    assert confirmation.code_tail(bad) == ""


def test_it_issues_consecutive_counters_per_vendor(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    before = cast.vendor.code_counter
    for i, amount in enumerate([10_000, 20_000, 30_000]):
        pay(f"cnt-{i}", cast.vendor, amount, on_commit=django_capture_on_commit_callbacks)
    pay("cnt-other", cast.other_vendor, 10_000, on_commit=django_capture_on_commit_callbacks)

    counters = list(
        ConfirmationCode.objects.filter(vendor=cast.vendor).order_by("counter").values_list("counter", flat=True)
    )
    assert counters == [before + 1, before + 2, before + 3]
    cast.vendor.refresh_from_db()
    assert cast.vendor.code_counter == before + 3
    assert ConfirmationCode.objects.get(vendor=cast.other_vendor).counter == 1


def test_it_lets_a_device_verify_codes_offline_with_its_key(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    r = client_for(cast.vendor_user).get("/api/v1/vendors/me/offline-key/?device_id=phone-1")
    assert r.status_code == 200, r.content
    assert r["Cache-Control"] == "no-store"
    grant = r.json()
    assert grant["algorithm"] == "HMAC-SHA256" and grant["digits"] == 6 and grant["window"] == 10
    assert grant["key_encoding"] == "hex" and len(grant["key"]) == 64

    pay("offline-1", cast.vendor, 45_000, on_commit=django_capture_on_commit_callbacks)
    shown = code_in_sms(sms.outbox[0].body)

    # What the vendor's app does with no network: try the next `window` counters.
    key = bytes.fromhex(grant["key"])
    window = range(grant["counter"] + 1, grant["counter"] + 1 + grant["window"])
    assert confirmation.find_counter(key, shown, amount=45_000, counters=window) == grant["counter"] + 1
    assert confirmation.find_counter(key, shown, amount=54_000, counters=window) is None


def test_it_shows_the_key_once_per_device(cast):
    vendor = client_for(cast.vendor_user)
    assert vendor.get("/api/v1/vendors/me/offline-key/", HTTP_X_DEVICE_ID="tablet-7").status_code == 200

    again = vendor.get("/api/v1/vendors/me/offline-key/", HTTP_X_DEVICE_ID="tablet-7")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "key_already_issued"
    assert "key" not in again.json()
    assert vendor.get("/api/v1/vendors/me/offline-key/?device_id=phone-2").status_code == 200
    assert OfflineKeyGrant.objects.filter(vendor=cast.vendor).count() == 2


def test_it_refuses_the_key_to_anyone_but_a_vendor(cast):
    assert client_for(cast.board).get("/api/v1/vendors/me/offline-key/?device_id=x").status_code == 404
    r = client_for(cast.vendor_user).get("/api/v1/vendors/me/offline-key/")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_device_id"
    assert client_for(cast.vendor_user).get("/api/v1/vendors/me/offline-key/?device_id=a/b").status_code == 400


def test_it_rotates_the_key_when_a_device_is_lost(cast):
    old_secret = cast.vendor.code_secret
    vendor = client_for(cast.vendor_user)
    vendor.get("/api/v1/vendors/me/offline-key/?device_id=lost-phone")

    assert client_for(cast.other_board).post(f"/api/v1/vendors/{cast.vendor.pk}/offline-key/rotate/").status_code == 404
    assert client_for(cast.volunteer).post(f"/api/v1/vendors/{cast.vendor.pk}/offline-key/rotate/").status_code == 403
    r = client_for(cast.board).post(f"/api/v1/vendors/{cast.vendor.pk}/offline-key/rotate/")
    assert r.status_code == 200, r.content
    assert r.json() == {"revoked_devices": 1}

    cast.vendor.refresh_from_db()
    assert cast.vendor.code_secret != old_secret
    fresh = vendor.get("/api/v1/vendors/me/offline-key/?device_id=lost-phone")
    assert fresh.status_code == 200
    assert fresh.json()["key"] == cast.vendor.code_secret


def test_it_keeps_the_vendor_key_out_of_the_vendor_api(cast):
    body = client_for(cast.vendor_user).get("/api/v1/vendors/me/").json()
    assert cast.vendor.code_secret not in str(body)
    assert code_for(cast.vendor, counter=1, amount=1000).isdigit()
