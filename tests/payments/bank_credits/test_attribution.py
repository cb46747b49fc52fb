"""Which trader a bank credit belongs to: sale reference → merchant code →
receiving account → unmatched queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import Channel, Payment, PaymentEvent, PaymentRequest
from tests.conftest import needs_postgres
from tests.factories import VendorFactory
from tests.payments.bank_credits.webhooks_support import (
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")


def make_request(vendor, *, reference: str = "K7RX3MWP4A", amount: int = 85_000, **fields) -> PaymentRequest:
    return PaymentRequest.objects.create(
        vendor=vendor,
        market=vendor.market,
        reference=reference,
        amount=amount,
        payload="000201…",
        expires_at=timezone.now() + dt.timedelta(minutes=15),
        **fields,
    )


def flags(payment: Payment) -> list[str]:
    return list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True))


# --- 1. sale reference -------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "CHO40 K7RX3MWP4A",
        "MBVCB.8421337.cho40 k7rx3mwp4a.CT tu 0451000123456 TRAN THI MAI",  # prefixed, lower-cased
        "IBFT CHO40K7RX3MWP4ATHANHTOAN",  # spaces dropped by the bank
        "TT k7rx-3mwp 4a",  # punctuation in between
    ],
)
def test_it_settles_a_pending_sale_whose_reference_is_in_the_content(cast, client: Client, content: str) -> None:
    request = make_request(cast.vendor)

    response = sepay_post(client, sepay_body(content=content, amount=85_000))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.payment_request == request
    assert (payment.vendor, payment.market) == (cast.vendor, cast.market)
    assert payment.channel == Channel.DYNAMIC_QR
    assert payment.attribution == Payment.Attribution.REQUEST
    assert payment.amount_check == Payment.AmountCheck.EXACT
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.PAID
    assert request.paid_at == payment.occurred_at
    assert flags(payment) == []


@pytest.mark.parametrize(("amount", "check"), [(80_000, "underpaid"), (90_000, "overpaid")])
def test_it_flags_a_wrong_amount_and_leaves_the_sale_pending(cast, client: Client, amount: int, check: str) -> None:
    request = make_request(cast.vendor, amount=85_000)

    sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=amount))

    payment = Payment.objects.get()
    assert payment.amount == amount
    assert payment.amount_check == check
    assert payment.vendor == cast.vendor
    assert payment.payment_request == request
    assert flags(payment) == [f"amount_{check}"]
    event = PaymentEvent.objects.get(payment=payment)
    assert event.data == {"reference": "K7RX3MWP4A", "expected": 85_000, "paid": amount}
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.PENDING


def test_it_records_and_flags_a_second_payment_of_a_paid_sale(cast, client: Client) -> None:
    request = make_request(cast.vendor)
    sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=85_000))

    sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=85_000))

    first, second = Payment.objects.order_by("id")
    assert first.payment_request == second.payment_request == request
    assert flags(first) == []
    assert flags(second) == ["request_already_paid"]
    assert second.vendor == cast.vendor


def test_it_settles_a_sale_paid_just_after_its_qr_expired(cast, client: Client) -> None:
    # The expiry sweep had not run yet: the money arrived for that sale, so it counts.
    request = make_request(cast.vendor)
    PaymentRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=85_000))

    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.PAID


def test_it_attributes_a_cancelled_sale_to_its_vendor_but_flags_it(cast, client: Client) -> None:
    make_request(cast.vendor, status=PaymentRequest.Status.CANCELLED)

    sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=85_000))

    payment = Payment.objects.get()
    assert payment.vendor == cast.vendor
    assert flags(payment) == ["request_cancelled"]


# --- 2. merchant code --------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    ["CHO40 {code} ca chep", "CHO 4.0-{code}", "ACB;CHO40{code}0912345678;GD 4711", "chuyen tien {code} cam on"],
)
def test_it_finds_the_stall_by_merchant_code(cast, client: Client, template: str) -> None:
    sepay_post(client, sepay_body(content=template.format(code=cast.vendor.merchant_code)))

    payment = Payment.objects.get()
    assert payment.vendor == cast.vendor
    assert payment.channel == Channel.STATIC_QR
    assert payment.attribution == Payment.Attribution.MERCHANT_CODE


def test_it_ignores_eight_digits_whose_check_digit_is_wrong(cast, client: Client) -> None:
    code = cast.vendor.merchant_code
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)

    sepay_post(client, sepay_body(content=f"CHO40 {typo}"))

    assert Payment.objects.get().attribution == Payment.Attribution.UNMATCHED


def test_it_flags_content_naming_another_vendor_than_the_account_owner(cast, client: Client) -> None:
    sepay_post(
        client, sepay_body(content=f"CHO40 {cast.other_vendor.merchant_code}", account=cast.vendor.account_number)
    )

    payment = Payment.objects.get()
    assert payment.vendor == cast.other_vendor
    assert flags(payment) == ["attribution_conflict"]


# --- 3. receiving account ------------------------------------------------------------


def test_it_finds_the_vendor_by_receiving_account(cast, client: Client) -> None:
    sepay_post(client, sepay_body(content="NGUYEN VAN B chuyen tien", account=cast.vendor.account_number))

    payment = Payment.objects.get()
    assert (payment.vendor, payment.market) == (cast.vendor, cast.market)
    assert payment.channel == Channel.PHONE_TRANSFER
    assert payment.attribution == Payment.Attribution.ACCOUNT
    assert payment.receiving_account == cast.vendor.account_number


def test_it_uses_the_bank_to_tell_apart_two_vendors_with_one_account_number(cast, client: Client) -> None:
    twin = VendorFactory(market=cast.other_market, account_number=cast.vendor.account_number, bank_id="970422")

    sepay_post(client, sepay_body(content="chuyen tien", account=cast.vendor.account_number, gateway="MBBank"))

    assert Payment.objects.get().vendor == twin


def test_it_queues_an_account_shared_inside_one_market_under_that_market(cast, client: Client) -> None:
    VendorFactory(market=cast.market, account_number="0987000111", bank_id="970436")
    VendorFactory(market=cast.market, account_number="0987000111", bank_id="970422")

    sepay_post(client, sepay_body(content="chuyen tien", account="0987000111", gateway="TPBank"))

    payment = Payment.objects.get()
    assert payment.vendor is None
    assert payment.market == cast.market
    assert payment.attribution == Payment.Attribution.UNMATCHED


# --- 4. unmatched ---------------------------------------------------------------------


def test_it_queues_a_credit_nobody_can_be_found_for(cast, client: Client) -> None:
    response = sepay_post(client, sepay_body(content="chuyen khoan", account="5555555555", amount=20_000))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert payment.vendor is None
    assert payment.market is None
    assert payment.attribution == Payment.Attribution.UNMATCHED
    assert payment.amount == 20_000


def test_the_vendor_lookup_of_every_credit_is_served_by_indexes(cast) -> None:
    # Attribution runs for every bank credit against every vendor of the
    # province: each of its conditions must be an index search, not a scan of
    # the table or of a whole index (an index whose first column is another).
    needs_postgres()
    import itertools
    import re

    from django.db import connection

    from payments.bank_credits import attribution

    sql, params = attribution._vendor_query([cast.vendor.merchant_code], [cast.vendor.account_number])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # any usable index beats a scan now
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
        searched: dict[str, str] = {}  # column → index used for it
        for line, following in itertools.pairwise(plan):
            scan = re.search(r"Index (?:Scan|Only Scan) (?:on|using) (\w+)", line)
            condition = re.search(r"Index Cond: \(\(?(\w+)\)?", following)
            if scan and condition:
                searched[condition.group(1)] = scan.group(1)
        leading = {}
        for column, index in searched.items():
            cursor.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE c.relname = %s",
                [index],
            )
            leading[column] = cursor.fetchone()[0]

    assert not any("Seq Scan on vendors_vendor" in line for line in plan), plan
    assert leading.get("merchant_code") == "merchant_code", plan
    assert leading.get("account_number") == "account_number", plan
