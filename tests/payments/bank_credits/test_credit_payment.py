"""``credit_payment.payment_from``: the intake's quick Payment is the constructor's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import signals

from payments.bank_credits.credit_payment import payment_from
from payments.models import Payment


def _values() -> dict:
    occurred = dt.datetime(2026, 3, 1, 1, 15, tzinfo=dt.UTC)
    return {
        "vendor_id": 7,
        "market_id": 3,
        "amount": 64_000,
        "channel": "static_qr",
        "source": "sepay",
        "provider_txn_id": "93012",
        "attribution": "merchant_code",
        "payer_masked": "NGUYEN VAN A ••••1234",
        "content": "CHO40 12345678 rau",
        "occurred_at": occurred,
        "local_date": occurred.date(),
        "recorded_at": occurred,
    }


def _fields(payment: Payment) -> dict:
    return {f.attname: getattr(payment, f.attname) for f in Payment._meta.concrete_fields}


def test_it_is_the_instance_the_constructor_makes() -> None:
    quick, built = payment_from(_values()), Payment(**_values())
    assert type(quick) is Payment
    assert _fields(quick) == _fields(built)
    assert quick.status == Payment.Status.SUCCEEDED and quick.pk is None and quick.payment_request_id is None
    assert (quick._state.adding, quick._state.db) == (True, None)
    quick.clean_fields(exclude=["vendor", "market", "payment_request"])  # valid, as the constructor's would be


def test_a_listener_of_the_constructor_still_hears_of_it() -> None:
    heard: list[Payment] = []

    def listener(sender, instance, **kwargs) -> None:  # type: ignore[no-untyped-def]
        heard.append(instance)

    signals.post_init.connect(listener, sender=Payment)
    try:
        payment = payment_from(_values())
    finally:
        signals.post_init.disconnect(listener, sender=Payment)
    assert heard == [payment]


def test_a_name_that_is_no_field_is_refused() -> None:
    with pytest.raises(TypeError):
        payment_from({**_values(), "vendor_code": 7})
