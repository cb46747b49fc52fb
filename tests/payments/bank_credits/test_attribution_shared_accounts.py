"""Attribution of credits to an account that several registrations hold, and
of vendors that are not active (security issue, hole 1): only an active stall
takes money over, a trader's stalls sharing one account are told apart by the
merchant code or else the first stall gets it, never "no market"; the batch
lane decides exactly as the single one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from payments.bank_credits import ingest
from payments.bank_credits.batching import webhook_ingest_batch
from payments.bank_credits.providers import sepay
from payments.models import Payment, PaymentEvent
from tests.conftest import needs_postgres
from tests.factories import VendorFactory
from tests.payments.bank_credits.test_ingest_batch import sepay_delivery
from tests.payments.bank_credits.webhooks_support import (
    SEPAY_API_KEY,
    encode,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)
from vendors.models import Vendor

pytestmark = pytest.mark.usefixtures("provider_keys")


def twin_of(vendor: Vendor, market, **fields: Any) -> Vendor:
    """Another registration of ``vendor``'s very account, written straight into
    the database (as data from before the registration rule could be)."""
    return VendorFactory(market=market, bank_id=vendor.bank_id, account_number=vendor.account_number, **fields)


def only_payment() -> Payment:
    return Payment.objects.get()


# --- the hijack of the issue ------------------------------------------------------------


def test_a_pending_decoy_in_another_province_does_not_take_the_traders_credits(cast, client: Client) -> None:
    twin_of(cast.vendor, cast.far_market, status=Vendor.Status.PENDING, full_name="Mồi Nhử")

    sepay_post(client, sepay_body(content="chuyen tien", account=cast.vendor.account_number))

    payment = only_payment()
    assert (payment.vendor, payment.market) == (cast.vendor, cast.market)
    assert payment.attribution == Payment.Attribution.ACCOUNT


def test_an_active_decoy_registered_later_does_not_take_the_credits_either(cast, client: Client) -> None:
    # Bad data from before the rule: both registrations active. The first stall wins, never "no market".
    twin_of(cast.vendor, cast.far_market)

    sepay_post(client, sepay_body(content="chuyen tien", account=cast.vendor.account_number))

    payment = only_payment()
    assert (payment.vendor, payment.market) == (cast.vendor, cast.market)


# --- one trader, several stalls --------------------------------------------------------------


def test_a_traders_stall_named_by_its_merchant_code_gets_the_credit_without_a_conflict_flag(cast, client) -> None:
    second_stall = twin_of(cast.vendor, cast.other_market)

    sepay_post(client, sepay_body(content=f"CHO40 {second_stall.merchant_code}", account=cast.vendor.account_number))

    payment = only_payment()
    assert (payment.vendor, payment.market) == (second_stall, cast.other_market)
    assert payment.attribution == Payment.Attribution.MERCHANT_CODE
    assert not PaymentEvent.objects.filter(payment=payment).exists()  # the same trader's stall: no conflict


def test_without_a_code_the_traders_first_active_stall_gets_the_credit(cast, client: Client) -> None:
    cast.vendor.status = Vendor.Status.SUSPENDED
    cast.vendor.save()
    second, third = twin_of(cast.vendor, cast.other_market), twin_of(cast.vendor, cast.far_market)
    assert second.pk < third.pk

    sepay_post(client, sepay_body(content="chuyen tien", account=cast.vendor.account_number))

    payment = only_payment()
    assert (payment.vendor, payment.market) == (second, cast.other_market)
    assert payment.attribution == Payment.Attribution.ACCOUNT


# --- vendors that are not active ------------------------------------------------------------------


@pytest.mark.parametrize("status", [Vendor.Status.PENDING, Vendor.Status.SUSPENDED])
def test_a_vendor_that_is_not_active_is_not_attributed_by_merchant_code(cast, client, status) -> None:
    cast.vendor.status = status
    cast.vendor.save()

    sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", account="5550001112"))

    payment = only_payment()
    assert payment.vendor is None
    assert payment.attribution == Payment.Attribution.UNMATCHED


@pytest.mark.parametrize("status", [Vendor.Status.PENDING, Vendor.Status.SUSPENDED])
def test_a_credit_to_an_account_held_only_by_inactive_stalls_is_queued_under_their_market(cast, client, status) -> None:
    cast.vendor.status = status
    cast.vendor.save()
    twin_of(cast.vendor, cast.far_market, status=Vendor.Status.PENDING)  # registered later

    sepay_post(client, sepay_body(content="chuyen tien", account=cast.vendor.account_number))

    payment = only_payment()
    assert payment.vendor is None
    assert payment.market == cast.market  # the first registration's board sees it
    assert payment.attribution == Payment.Attribution.UNMATCHED


# --- the batch lane decides the same ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_batch_lane_attributes_shared_and_inactive_accounts_as_the_single_lane(cast) -> None:
    needs_postgres()
    twin_of(cast.vendor, cast.far_market, status=Vendor.Status.PENDING)  # the hijack decoy
    second_stall = twin_of(cast.vendor, cast.other_market)
    pending = VendorFactory(market=cast.other_market, status=Vendor.Status.PENDING)
    shapes = [
        dict(content="chuyen tien", account=cast.vendor.account_number),
        dict(content=f"CHO40 {second_stall.merchant_code}", account=cast.vendor.account_number),
        dict(content=f"CHO40 {pending.merchant_code}", account=pending.account_number),
        dict(content="chuyen tien", account=pending.account_number),
    ]

    def recorded(prefix: int) -> list[tuple[Any, ...]]:
        rows = Payment.objects.filter(provider_txn_id__startswith=str(prefix)).order_by("provider_txn_id")
        return list(rows.values_list("vendor", "market", "channel", "attribution"))

    for i, shape in enumerate(shapes):
        ingest.webhook_ingest(
            provider=sepay,
            headers={"Authorization": f"Apikey {SEPAY_API_KEY}"},
            body=encode(sepay_body(txn_id=91_000 + i, **shape)),
        )
    webhook_ingest_batch([sepay_delivery(sepay_body(txn_id=92_000 + i, **shape)) for i, shape in enumerate(shapes)])

    assert (
        recorded(91)
        == recorded(92)
        == [
            (cast.vendor.pk, cast.market.pk, "phone_transfer", "account"),
            (second_stall.pk, cast.other_market.pk, "static_qr", "merchant_code"),
            (None, cast.other_market.pk, "phone_transfer", "unmatched"),
            (None, cast.other_market.pk, "phone_transfer", "unmatched"),
        ]
    )
