"""The database itself logs every counted change of a payment, whichever way
it is written: ORM saves, the ledger's services, raw UPDATEs, deletes."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from payments.ledger.services import payment_assign, payment_dispute, payment_reassign, payment_refund
from payments.models import Payment
from stats import triggers
from stats.folding import fold_pending
from stats.models import MarketDay, PaymentChange, VendorActivity, VendorDay
from tests.factories import PaymentFactory, VendorFactory
from tests.stats.support import changes

pytestmark = pytest.mark.django_db


def test_it_logs_a_new_payment_with_its_values(cast):
    payment = PaymentFactory(vendor=cast.vendor, amount=45_000)

    assert changes() == [(payment.pk, 1, cast.vendor.pk, cast.market.pk, "succeeded", 45_000)]
    change = PaymentChange.objects.get()
    assert (change.local_date, change.channel) == (payment.local_date, "static_qr")


def test_it_logs_a_refund_as_the_old_status_out_and_the_new_one_in(cast):
    payment = PaymentFactory(vendor=cast.vendor, amount=45_000)
    PaymentChange.objects.all().delete()

    payment_refund(actor=cast.board, payment=payment)

    assert changes() == [
        (payment.pk, -1, cast.vendor.pk, cast.market.pk, "succeeded", 45_000),
        (payment.pk, 1, cast.vendor.pk, cast.market.pk, "refunded", 45_000),
    ]


def test_it_logs_a_dispute(cast):
    payment = PaymentFactory(vendor=cast.vendor, amount=45_000)
    PaymentChange.objects.all().delete()

    payment_dispute(actor=cast.board, payment=payment)

    assert [(sign, status) for _p, sign, _v, _m, status, _a in changes()] == [(-1, "succeeded"), (1, "disputed")]


def test_it_logs_a_reassignment_as_one_vendor_out_and_the_other_in(cast):
    payment = PaymentFactory(vendor=cast.vendor, attribution="account", amount=30_000)
    neighbour = VendorFactory(market=cast.market)
    PaymentChange.objects.all().delete()

    payment_reassign(actor=cast.board, payment=payment, vendor=neighbour)

    assert changes() == [
        (payment.pk, -1, cast.vendor.pk, cast.market.pk, "succeeded", 30_000),
        (payment.pk, 1, neighbour.pk, cast.market.pk, "succeeded", 30_000),
    ]


def test_it_logs_an_unmatched_credit_being_assigned_to_a_market_and_vendor(cast):
    payment = PaymentFactory(vendor=None, market=None, receiving_account=cast.vendor.account_number)
    PaymentChange.objects.all().delete()

    payment_assign(actor=cast.board, payment=payment, vendor=cast.vendor)

    assert changes() == [
        (payment.pk, -1, None, None, "succeeded", 50_000),
        (payment.pk, 1, cast.vendor.pk, cast.market.pk, "succeeded", 50_000),
    ]


def test_it_logs_a_raw_update_of_the_amount(cast):
    payment = PaymentFactory(vendor=cast.vendor, amount=19_999)
    PaymentChange.objects.all().delete()

    Payment.objects.filter(pk=payment.pk).update(amount=20_000)

    assert [(sign, amount) for _p, sign, _v, _m, _s, amount in changes()] == [(-1, 19_999), (1, 20_000)]


def test_it_logs_nothing_for_an_update_that_changes_no_counted_value(cast):
    payment = PaymentFactory(vendor=cast.vendor)
    PaymentChange.objects.all().delete()

    payment.content = "CHO40 rau muống"
    payment.save()  # every column written, none of the counted ones changed
    Payment.objects.filter(pk=payment.pk).update(status="succeeded", amount=payment.amount)

    assert changes() == []


def test_it_logs_a_deleted_payment_out(cast):
    payment = PaymentFactory(vendor=cast.vendor, amount=45_000)
    PaymentChange.objects.all().delete()
    pk = payment.pk

    payment.delete()

    assert changes() == [(pk, -1, cast.vendor.pk, cast.market.pk, "succeeded", 45_000)]


def test_the_migrations_leave_every_trigger_installed():
    assert triggers.installed(connection) == set(triggers.TRIGGERS)


def test_after_a_migration_that_dropped_them_the_triggers_come_back(cast):
    triggers.uninstall(connection)
    assert triggers.installed(connection) == set()

    triggers.ensure_installed(connection)  # what every `migrate` ends with (post_migrate)

    assert triggers.installed(connection) == set(triggers.TRIGGERS)
    payment = PaymentFactory(vendor=cast.vendor)
    assert [p for p, *_ in changes()] == [payment.pk]


def _stats_rows() -> int:
    return sum(m.objects.count() for m in (PaymentChange, MarketDay, VendorDay, VendorActivity))


@pytest.mark.django_db(transaction=True)
def test_a_flushed_database_keeps_no_statistics_of_its_former_payments(cast):
    for _ in range(3):
        PaymentFactory(vendor=cast.vendor)
    fold_pending()
    PaymentFactory(vendor=cast.vendor)  # and one pending

    call_command("flush", interactive=False, verbosity=0)

    assert _stats_rows() == 0


def test_on_sqlite_a_flush_that_empties_the_change_log_before_the_payments_leaves_nothing(cast):
    # SQLite's flush is one DELETE per table in no set order; the delete
    # trigger then logs −1 rows for payments whose +1 rows are gone.
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's flush is one TRUNCATE, which fires no row trigger")
    PaymentFactory(vendor=cast.vendor)
    fold_pending()
    PaymentFactory(vendor=cast.vendor)
    for model in (PaymentChange, MarketDay, VendorDay, VendorActivity):
        model.objects.all().delete()
    Payment.objects.all().delete()
    assert PaymentChange.objects.count() == 2

    emit_post_migrate_signal(0, False, connection.alias)  # as flush ends

    assert _stats_rows() == 0
