"""The vendor confirms a customer's code: single use, expiring, throttled."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from payments.models import ConfirmationAttempt, ConfirmationCode, Payment, PaymentEvent
from tests.conftest import client_for
from tests.factories import make_vendor_user
from tests.payments.code_entry.support import code_in_sms, pay, sms, ussd_secret

__all__ = ["sms", "ussd_secret"]  # fixtures

URL = "/api/v1/payments/confirm/"


@pytest.fixture
def paid(cast, sms, ussd_secret, django_capture_on_commit_callbacks) -> tuple[Payment, str]:
    """A 20,000₫ code-entry payment to the cast's vendor and the code the customer got."""
    pay("confirm-1", cast.vendor, 20_000, on_commit=django_capture_on_commit_callbacks)
    return Payment.objects.get(), code_in_sms(sms.outbox[0].body)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_it_confirms_the_code_once(cast, paid):
    payment, code = paid
    vendor = client_for(cast.vendor_user)

    r = vendor.post(URL, {"merchant_code": cast.vendor.merchant_code, "code": code, "amount": 20_000}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["confirmed"] is True
    assert r.json()["payment"]["id"] == payment.pk
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is not None
    assert ConfirmationCode.objects.get(payment=payment).used_at is not None
    assert PaymentEvent.objects.filter(payment=payment, kind="vendor_confirmed").count() == 1

    again = vendor.post(URL, {"merchant_code": cast.vendor.merchant_code, "code": code}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "code_already_used"


def test_it_confirms_without_the_amount(cast, paid):
    _, code = paid
    r = client_for(cast.vendor_user).post(
        URL, {"merchant_code": cast.vendor.merchant_code, "code": code}, format="json"
    )
    assert r.status_code == 200, r.content


def test_it_refuses_a_code_for_another_amount(cast, paid):
    payment, code = paid
    r = client_for(cast.vendor_user).post(
        URL, {"merchant_code": cast.vendor.merchant_code, "code": code, "amount": 200_000}, format="json"
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_code"
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is None


def test_it_refuses_an_expired_code(cast, paid):
    payment, code = paid
    ConfirmationCode.objects.filter(payment=payment).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    r = client_for(cast.vendor_user).post(
        URL, {"merchant_code": cast.vendor.merchant_code, "code": code}, format="json"
    )
    assert r.status_code == 410
    assert r.json()["error"]["code"] == "code_expired"


def test_it_hides_other_vendors_and_non_vendors(cast, paid):
    _, code = paid
    body = {"merchant_code": cast.vendor.merchant_code, "code": code}
    assert client_for(cast.board).post(URL, body, format="json").status_code == 404
    other = client_for(cast.vendor_user).post(
        URL, {"merchant_code": cast.other_vendor.merchant_code, "code": code}, format="json"
    )
    assert other.status_code == 404
    assert client_for(cast.outsider).post(URL, body, format="json").status_code == 404
    assert not ConfirmationAttempt.objects.exists()


def test_it_throttles_brute_force_and_lets_the_right_code_through_after_the_window(cast, paid):
    payment, code = paid
    vendor = client_for(cast.vendor_user)
    merchant = cast.vendor.merchant_code
    guesses = [f"{n:06d}" for n in range(10) if f"{n:06d}" != code][:5]

    for guess in guesses:
        r = vendor.post(URL, {"merchant_code": merchant, "code": guess}, format="json")
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_code"

    sixth = vendor.post(URL, {"merchant_code": merchant, "code": code}, format="json")
    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "too_many_attempts"
    assert 899 <= int(sixth["Retry-After"]) <= 900
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is None  # even the right code waits

    # Every attempt is in the log, none with the whole code.
    attempts = ConfirmationAttempt.objects.filter(vendor=cast.vendor).order_by("id")
    assert [a.outcome for a in attempts] == ["wrong"] * 5 + ["throttled"]
    assert all(len(a.code_tail) == 2 for a in attempts)
    assert attempts[0].remote_addr == "127.0.0.1"

    # Retry-After counts down to when the oldest failure leaves the window.
    oldest = attempts[0]
    ConfirmationAttempt.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    later = vendor.post(URL, {"merchant_code": merchant, "code": code}, format="json")
    assert later.status_code == 429
    assert 299 <= int(later["Retry-After"]) <= 300

    # Once that failure is out of the window, the right code works.
    ConfirmationAttempt.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - dt.timedelta(minutes=16))
    ok = vendor.post(URL, {"merchant_code": merchant, "code": code}, format="json")
    assert ok.status_code == 200, ok.content


def test_it_counts_failures_per_vendor(cast, paid):
    vendor = client_for(cast.vendor_user)
    for _ in range(5):
        vendor.post(URL, {"merchant_code": cast.vendor.merchant_code, "code": "000000"}, format="json")
    other_user = make_vendor_user(cast.other_vendor, "other_vendor")
    r = client_for(other_user).post(
        URL, {"merchant_code": cast.other_vendor.merchant_code, "code": "000000"}, format="json"
    )
    assert r.status_code == 400  # not throttled by the first vendor's failures


def test_it_counts_a_malformed_code_as_a_wrong_attempt(cast, paid):
    r = client_for(cast.vendor_user).post(
        URL, {"merchant_code": cast.vendor.merchant_code, "code": "12a"}, format="json"
    )
    assert r.status_code == 400
    attempt = ConfirmationAttempt.objects.get()
    assert (attempt.outcome, attempt.code_tail, attempt.succeeded) == ("wrong", "", False)


def test_it_validates_the_input(cast):
    r = client_for(cast.vendor_user).post(URL, {"code": "123456"}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["merchant_code"][0]["code"] == "required"
