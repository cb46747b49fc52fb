"""Confirmations verified offline on the vendor's device, uploaded later."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from payments.code_entry.offline import offline_confirmations_reconcile
from payments.code_entry.tasks import reconcile_offline_confirmations
from payments.models import ConfirmationCode, OfflineConfirmation, Payment
from tests.conftest import client_for
from tests.factories import make_vendor_user
from tests.payments.code_entry.support import code_for, code_in_sms, pay, sms, ussd_secret

__all__ = ["sms", "ussd_secret"]  # fixtures

URL = "/api/v1/payments/offline-sync/"


def _item(code: str, amount: int, *, captured_at: dt.datetime | None = None, client_uuid: str | None = None) -> dict:
    return {
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "code": code,
        "amount": amount,
        "captured_at": (captured_at or timezone.now()).isoformat(),
    }


@pytest.fixture
def paid(cast, sms, ussd_secret, django_capture_on_commit_callbacks) -> tuple[Payment, str]:
    pay("offline-paid", cast.vendor, 30_000, on_commit=django_capture_on_commit_callbacks)
    return Payment.objects.get(), code_in_sms(sms.outbox[0].body)


def test_it_matches_an_offline_confirmation_to_its_payment(cast, paid):
    payment, code = paid
    item = _item(code, 30_000)

    r = client_for(cast.vendor_user).post(URL, {"confirmations": [item]}, format="json")

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["results"] == [
        {
            "client_uuid": item["client_uuid"],
            "status": "matched",
            "payment": payment.pk,
            "flag_reason": "",
            "error": None,
        }
    ]
    assert body["counter"] == ConfirmationCode.objects.get(payment=payment).counter
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is not None
    assert ConfirmationCode.objects.get(payment=payment).used_at is not None


def test_it_gives_the_same_results_when_a_batch_is_replayed(cast, paid):
    _, code = paid
    vendor = client_for(cast.vendor_user)
    future_code = code_for(cast.vendor, counter=cast.vendor.code_counter + 1, amount=15_000)
    batch = {"confirmations": [_item(code, 30_000), _item(future_code, 15_000)]}

    first = vendor.post(URL, batch, format="json")
    second = vendor.post(URL, batch, format="json")
    third = vendor.post(URL, batch, format="json")

    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json()["results"] == second.json()["results"] == third.json()["results"]
    assert [r["status"] for r in first.json()["results"]] == ["matched", "pending"]
    assert OfflineConfirmation.objects.count() == 2
    assert Payment.objects.filter(vendor_confirmed_at__isnull=False).count() == 1


def test_it_refuses_a_reused_uuid_with_different_content(cast, paid):
    _, code = paid
    vendor = client_for(cast.vendor_user)
    item = _item(code, 30_000)
    vendor.post(URL, {"confirmations": [item]}, format="json")

    changed = {**item, "amount": 31_000}
    r = vendor.post(URL, {"confirmations": [changed]}, format="json")

    result = r.json()["results"][0]
    assert result["status"] == "error"
    assert result["error"]["code"] == "uuid_conflict"
    assert OfflineConfirmation.objects.get().amount == 30_000

    # Another vendor reusing the uuid learns nothing about the first.
    other = client_for(make_vendor_user(cast.other_vendor, "other_vendor"))
    r = other.post(URL, {"confirmations": [item]}, format="json")
    assert r.json()["results"][0]["error"]["code"] == "uuid_conflict"


def test_it_matches_a_pending_confirmation_when_the_payment_arrives(
    cast, sms, ussd_secret, django_capture_on_commit_callbacks
):
    # The device verified the code for the vendor's next counter before our record existed.
    counter = cast.vendor.code_counter + 1
    item = _item(code_for(cast.vendor, counter=counter, amount=25_000), 25_000)
    r = client_for(cast.vendor_user).post(URL, {"confirmations": [item]}, format="json")
    assert r.json()["results"][0]["status"] == "pending"
    row = OfflineConfirmation.objects.get()
    assert row.reconcile_by == row.captured_at + dt.timedelta(hours=24)

    # The payment is recorded; its commit enqueues the reconciliation.
    pay("late-rail", cast.vendor, 25_000, on_commit=django_capture_on_commit_callbacks)

    row.refresh_from_db()
    payment = Payment.objects.get()
    assert (row.status, row.payment) == (OfflineConfirmation.Status.MATCHED, payment)
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at == row.captured_at


def test_it_flags_a_confirmation_with_no_payment_after_the_deadline(cast):
    captured = timezone.now() - dt.timedelta(hours=2)
    item = _item("123456", 40_000, captured_at=captured)
    client_for(cast.vendor_user).post(URL, {"confirmations": [item]}, format="json")

    assert reconcile_offline_confirmations() == {"matched": 0, "flagged": 0, "pending": 1}
    later = captured + dt.timedelta(hours=24, seconds=1)
    assert offline_confirmations_reconcile(now=later) == {"matched": 0, "flagged": 1, "pending": 0}

    row = OfflineConfirmation.objects.get()
    assert (row.status, row.flag_reason) == (OfflineConfirmation.Status.FLAGGED, "no_matching_payment")
    replay = client_for(cast.vendor_user).post(URL, {"confirmations": [item]}, format="json")
    assert replay.json()["results"][0]["status"] == "flagged"


def test_it_flags_a_code_already_confirmed_elsewhere(cast, paid):
    _, code = paid
    vendor = client_for(cast.vendor_user)
    online = vendor.post(
        "/api/v1/payments/confirm/", {"merchant_code": cast.vendor.merchant_code, "code": code}, format="json"
    )
    assert online.status_code == 200

    # A second device accepted the same SMS for another sale.
    r = vendor.post(URL, {"confirmations": [_item(code, 30_000)]}, format="json")
    result = r.json()["results"][0]
    assert (result["status"], result["flag_reason"]) == ("flagged", "code_already_used")


def test_it_flags_a_code_captured_after_it_expired(cast, paid):
    payment, code = paid
    expired_at = timezone.now() - dt.timedelta(hours=1)
    ConfirmationCode.objects.filter(payment=payment).update(expires_at=expired_at)

    late = _item(code, 30_000, captured_at=expired_at + dt.timedelta(minutes=5))
    in_time = _item(code, 30_000, captured_at=expired_at - dt.timedelta(minutes=5))
    r = client_for(cast.vendor_user).post(URL, {"confirmations": [late, in_time]}, format="json")

    results = r.json()["results"]
    assert (results[0]["status"], results[0]["flag_reason"]) == ("flagged", "code_expired")
    assert results[1]["status"] == "matched"  # verified on the device while still valid


def test_it_reports_bad_items_without_losing_the_good_ones(cast, paid):
    _, code = paid
    good = _item(code, 30_000)
    batch = [
        {"client_uuid": "not-a-uuid", "code": "123456", "amount": 1000, "captured_at": timezone.now().isoformat()},
        {**_item("12345", 1000)},
        _item("123456", 1000, captured_at=timezone.now() + dt.timedelta(hours=1)),
        good,
    ]
    r = client_for(cast.vendor_user).post(URL, {"confirmations": batch}, format="json")

    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["error", "error", "error", "matched"]
    assert [x["error"]["code"] for x in results[:3]] == ["invalid", "invalid", "invalid_captured_at"]
    assert OfflineConfirmation.objects.count() == 1


def test_it_refuses_an_empty_or_oversized_batch_and_non_vendors(cast):
    vendor = client_for(cast.vendor_user)
    assert vendor.post(URL, {"confirmations": []}, format="json").status_code == 400
    big = {"confirmations": [_item("123456", 1000) for _ in range(101)]}
    assert vendor.post(URL, big, format="json").status_code == 400
    assert (
        client_for(cast.board).post(URL, {"confirmations": [_item("123456", 1000)]}, format="json").status_code == 404
    )


# --- the list boards and vendors read ---------------------------------------------------------

LIST = "/api/v1/payments/offline-confirmations/"


def _upload(vendor_user, *items: dict) -> None:
    r = client_for(vendor_user).post(URL, {"confirmations": list(items)}, format="json")
    assert r.status_code == 200, r.content


def test_it_shows_the_board_its_markets_flagged_confirmations_to_look_into(cast, paid):
    payment, code = paid
    _upload(cast.vendor_user, _item(code, 30_000), _item("123456", 40_000))
    offline_confirmations_reconcile(now=timezone.now() + dt.timedelta(hours=25))

    flagged = client_for(cast.board).get(LIST, {"status": "flagged"})
    everything = client_for(cast.board).get(LIST)

    assert flagged.status_code == 200, flagged.content
    [row] = flagged.json()["results"]
    assert (row["vendor"], row["market"], row["amount"]) == (cast.vendor.id, cast.market.id, 40_000)
    assert (row["status"], row["flag_reason"], row["payment"]) == ("flagged", "no_matching_payment", None)
    assert row["code"] == "••••56"  # enough to compare with the customer's SMS, not the whole code
    statuses = sorted((r["status"], r["payment"]) for r in everything.json()["results"])
    assert statuses == [("flagged", None), ("matched", payment.id)]


@pytest.mark.parametrize(("role", "sees"), [("vendor_user", 1), ("officer", 1), ("board", 1), ("admin", 1),
                                            ("other_board", 0), ("far_officer", 0), ("volunteer", 0), ("outsider", 0)])  # fmt: skip
def test_it_shows_offline_confirmations_only_within_scope(cast, role, sees):
    _upload(cast.vendor_user, _item("654321", 12_000))

    r = client_for(getattr(cast, role)).get(LIST)

    assert r.status_code == 200
    assert r.json()["count"] == sees


def test_it_filters_by_market_and_vendor_and_refuses_bad_filters(cast):
    _upload(cast.vendor_user, _item("654321", 12_000))
    board = client_for(cast.officer)

    assert board.get(LIST, {"market": cast.market.id}).json()["count"] == 1
    assert board.get(LIST, {"market": cast.other_market.id}).json()["count"] == 0
    assert board.get(LIST, {"vendor": cast.vendor.id}).json()["count"] == 1
    bad = board.get(LIST, {"status": "lost", "vendor": "x"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"]


def test_it_requires_login_for_offline_confirmations(api):
    assert api.get(LIST).status_code == 401


# --- the wrong-code limit applies to uploads too (docs/code-entry.md, docs/security.md) ---


def _wrong_codes(n: int, amount: int) -> list[dict]:
    return [_item(f"{100_000 + i:06d}", amount) for i in range(n)]


def test_wrong_codes_uploaded_count_toward_the_limit_and_a_genuine_item_over_it_is_kept(cast, paid):
    payment, code = paid
    vendor = client_for(cast.vendor_user)
    guesses = vendor.post(URL, {"confirmations": _wrong_codes(5, 30_000)}, format="json")
    genuine = _item(code, 30_000)

    over = vendor.post(URL, {"confirmations": [genuine]}, format="json")
    online = vendor.post(
        "/api/v1/payments/confirm/", {"merchant_code": cast.vendor.merchant_code, "code": code}, format="json"
    )

    assert [r["status"] for r in guesses.json()["results"]] == ["pending"] * 5
    (result,) = over.json()["results"]
    assert (result["status"], result["flag_reason"], result["payment"]) == ("pending", "throttled", None)
    assert online.status_code == 429  # one counter for both ways of confirming
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is None  # not checked while over the limit…
    row = OfflineConfirmation.objects.get(client_uuid=genuine["client_uuid"])

    offline_confirmations_reconcile(now=timezone.now() + dt.timedelta(minutes=16))

    row.refresh_from_db()  # …but kept, and checked once the limit allows
    assert (row.status, row.payment_id, row.flag_reason) == ("matched", payment.pk, "")
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is not None


def test_uploads_cannot_check_more_than_five_wrong_codes_per_window(cast, paid):
    from payments.models import ConfirmationAttempt

    vendor = client_for(cast.vendor_user)

    first = vendor.post(URL, {"confirmations": _wrong_codes(60, 30_000)}, format="json")
    offline_confirmations_reconcile()  # the reconciliation does not check them behind the limit's back

    results = first.json()["results"]
    assert [r["flag_reason"] for r in results] == [""] * 5 + ["throttled"] * 55
    checked = ConfirmationAttempt.objects.exclude(outcome=ConfirmationAttempt.Outcome.THROTTLED)
    assert checked.count() == 5
    assert OfflineConfirmation.objects.count() == 60  # every item kept


@pytest.mark.parametrize(
    "captured_at", ["0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1999-12-31T23:00:00Z"]
)
def test_a_captured_at_out_of_range_is_an_item_error_not_a_server_error(cast, captured_at):
    item = {**_item("123456", 30_000), "captured_at": captured_at}

    r = client_for(cast.vendor_user).post(URL, {"confirmations": [item]}, format="json")

    assert r.status_code == 200
    (result,) = r.json()["results"]
    assert result["status"] == "error"
    assert result["error"]["code"] in ("overflow", "invalid_captured_at")
    assert not OfflineConfirmation.objects.exists()
