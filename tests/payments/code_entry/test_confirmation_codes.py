"""Confirmation codes issued per vendor, and the vendor's offline key (the algorithm: tests/chopay/test_codes.py)."""

from __future__ import annotations

from chopay import codes
from payments.models import ConfirmationCode, OfflineKeyGrant
from tests.conftest import client_for
from tests.payments.code_entry.support import code_for, code_in_sms, pay, sms, ussd_secret

__all__ = ["sms", "ussd_secret"]  # fixtures


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
    assert codes.find_counter(key, shown, amount=45_000, counters=window) == grant["counter"] + 1
    assert codes.find_counter(key, shown, amount=54_000, counters=window) is None


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
