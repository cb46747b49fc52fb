"""A stall phone's acknowledgement of an announcement (receipt_announce)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import Conflict, Invalid, NotFound
from payments.models import Payment, ReceiptAnnouncement
from payments.receipts.services import receipt_announce
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def test_it_records_the_delay_from_recording_to_announcement(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    Payment.objects.filter(pk=payment.pk).update(recorded_at=timezone.now() - dt.timedelta(seconds=2))

    done = receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="speech")

    assert done.created
    row = ReceiptAnnouncement.objects.get()
    assert (row.payment_id, row.vendor, row.market, row.device_id, row.method) == (
        payment.pk,
        cast.vendor,
        cast.market,
        "dev-1",
        "speech",
    )
    assert 2000 <= row.delay_ms < 10_000 and done.delay_ms == row.delay_ms


def test_it_is_idempotent_per_payment_and_device(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)

    first = receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="speech")
    again = receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="clips")
    other = receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-2", method="clips")

    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.announcement.pk == first.announcement.pk and again.announcement.method == "speech"
    assert ReceiptAnnouncement.objects.count() == 2


def test_a_payment_recorded_a_moment_later_by_the_clock_never_gives_a_negative_delay(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    Payment.objects.filter(pk=payment.pk).update(recorded_at=timezone.now() + dt.timedelta(seconds=3))

    done = receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="silent")

    assert done.delay_ms == 0


def test_a_payment_of_another_vendor_or_none_is_not_found(cast) -> None:
    theirs = PaymentFactory(vendor=cast.other_vendor)
    unmatched = PaymentFactory(vendor=None, market=cast.market)

    for payment_id in (theirs.pk, unmatched.pk, 999_999):
        with pytest.raises(NotFound):
            receipt_announce(vendor=cast.vendor, payment_id=payment_id, device_id="dev-1", method="speech")
    assert not ReceiptAnnouncement.objects.exists()


@pytest.mark.parametrize("status", ["pending", "failed", "refunded", "disputed"])
def test_a_payment_that_is_no_receipt_is_refused(cast, status: str) -> None:
    payment = PaymentFactory(vendor=cast.vendor, status=status)

    with pytest.raises(Conflict) as refused:
        receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="speech")

    assert refused.value.code == "not_a_receipt"
    assert not ReceiptAnnouncement.objects.exists()


@pytest.mark.parametrize(
    ("device_id", "method"), [("", "speech"), ("x" * 65, "speech"), ("dev 1", "speech"), ("dev-1", "shout")]
)
def test_it_refuses_a_bad_device_id_or_method(cast, device_id: str, method: str) -> None:
    payment = PaymentFactory(vendor=cast.vendor)

    with pytest.raises(Invalid):
        receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id=device_id, method=method)


@pytest.mark.django_db(transaction=True)
def test_racing_acknowledgements_from_one_device_record_one_row(cast) -> None:
    """Eight requests at once for the same (payment, device), each on its own
    connection: one row; every caller gets that row back."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection as main_connection
    from django.db import connections

    from tests.conftest import needs_postgres

    needs_postgres()
    payment = PaymentFactory(vendor=cast.vendor)
    barrier = Barrier(8)

    def acknowledge(_: int) -> int:
        try:
            barrier.wait(timeout=10)
            return receipt_announce(
                vendor=cast.vendor, payment_id=payment.pk, device_id="dev-1", method="speech"
            ).announcement.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        rows = set(pool.map(acknowledge, range(8)))

    assert main_connection.vendor == "postgresql"
    assert rows == {ReceiptAnnouncement.objects.get().pk}
