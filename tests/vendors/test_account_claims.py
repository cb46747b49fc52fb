"""One receiving account, one trader (security issue, hole 1): a stall in one
market cannot be registered with an account a stall of another market holds,
unless the trader confirms it with a code sent by SMS to the phone on record
or the board holding the existing registration approves; the refusal tells
nothing about the other registration; concurrent registrations cannot both
slip through (tests/vendors/test_races.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from payments.models import OutboundSms
from tests.conftest import client_for
from tests.factories import VendorFactory, make_board, make_volunteer
from tests.vendors.support import local, new_vendor
from vendors.models import SharedAccountClaim, Vendor

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/vendors/account-claims/"


@pytest.fixture
def far_volunteer(cast):
    return make_volunteer(cast.far_market, "far_volunteer")


def victims_account(cast, **overrides):
    """A stall in the far market (another province) with cast.vendor's account."""
    return new_vendor(
        cast.far_market,
        bank_bin=cast.vendor.bank_id,
        account_number=cast.vendor.account_number,
        **overrides,
    )


def assert_reveals_nothing(body: str, cast) -> None:
    vendor = cast.vendor
    for secret in (vendor.full_name, vendor.phone, local(vendor.phone), vendor.merchant_code, cast.market.name):
        assert secret not in body, secret
    assert cast.market.code not in body


def ask(user, cast, method: str, market=None):
    return client_for(user).post(
        CLAIMS,
        {
            "market": (market or cast.far_market).pk,
            "bank_bin": cast.vendor.bank_id,
            "account_number": cast.vendor.account_number,
            "method": method,
        },
        format="json",
    )


def code_sent_to(phone: str) -> str:
    sms = OutboundSms.objects.filter(to=phone).latest("id")
    return re.search(r"Ma xac nhan (\d{6})", sms.body).group(1)


# --- the hijack --------------------------------------------------------------------------------


def test_a_volunteer_of_another_province_cannot_register_a_decoy_with_a_traders_account(cast, far_volunteer):
    before = Vendor.objects.count()

    r = client_for(far_volunteer).post("/api/v1/vendors/", victims_account(cast), format="json")

    assert r.status_code == 409, r.content
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("account_registered_elsewhere", "account_number")
    assert_reveals_nothing(r.content.decode(), cast)
    assert Vendor.objects.count() == before


def test_a_payout_change_cannot_move_a_stall_onto_another_markets_account_either(cast):
    # The board's own payout change applies at once (hole 2), but not onto an account
    # a stall of a market it does not manage holds.
    far_board = make_board(cast.far_market, "far_board")
    decoy = VendorFactory(market=cast.far_market, bank_id="970422")

    r = client_for(far_board).post(
        f"/api/v1/vendors/{decoy.pk}/payout-changes/",
        {
            "bank_bin": cast.vendor.bank_id,
            "account_number": cast.vendor.account_number,
            "account_name": decoy.account_name,
            "reason": "new account",
        },
        format="json",
    )

    assert r.status_code == 409
    assert r.json()["error"]["code"] == "account_registered_elsewhere"
    assert_reveals_nothing(r.content.decode(), cast)
    decoy.refresh_from_db()
    assert decoy.bank_id == "970422"


def test_the_board_or_officer_holding_the_account_may_add_the_traders_stall_directly(cast):
    # The officer oversees both Thái Nguyên markets: the holding side itself registers.
    r = client_for(cast.officer).post(
        "/api/v1/vendors/",
        new_vendor(cast.other_market, bank_bin=cast.vendor.bank_id, account_number=cast.vendor.account_number),
        format="json",
    )

    assert r.status_code == 201, r.content


def test_a_claim_is_not_needed_for_an_account_nobody_else_holds(cast, far_volunteer):
    r = client_for(far_volunteer).post(
        CLAIMS,
        {"market": cast.far_market.pk, "bank_bin": "970422", "account_number": "5550001112", "method": "sms_code"},
        format="json",
    )

    assert r.status_code == 409
    assert r.json()["error"]["code"] == "claim_not_needed"


# --- confirmed by the trader: a code by SMS to the phone on record -------------------------------


def test_the_trader_confirms_a_second_stall_with_the_code_sent_to_their_phone(cast, far_volunteer):
    client = client_for(far_volunteer)

    asked = ask(far_volunteer, cast, "sms_code")

    assert asked.status_code == 201, asked.content
    claim = asked.json()
    assert (claim["status"], claim["method"], claim["holder"]) == ("pending", "sms_code", None)
    assert_reveals_nothing(asked.content.decode(), cast)
    code = code_sent_to(cast.vendor.phone)  # the phone on record, never one the volunteer typed
    sms = OutboundSms.objects.get(to=cast.vendor.phone)
    assert "Cho Hom" in sms.body and cast.vendor.account_number[-4:] in sms.body
    stored = SharedAccountClaim.objects.get(pk=claim["id"])
    assert code not in stored.code_hash  # kept hashed

    wrong = client.post(f"{CLAIMS}{claim['id']}/confirm/", {"code": f"{(int(code) + 1) % 10**6:06d}"}, format="json")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "wrong_code")
    right = client.post(f"{CLAIMS}{claim['id']}/confirm/", {"code": code}, format="json")
    assert right.status_code == 200, right.content
    assert right.json()["status"] == "confirmed"
    again = client.post(f"{CLAIMS}{claim['id']}/confirm/", {"code": code}, format="json")
    assert again.status_code == 409  # single use

    r = client.post("/api/v1/vendors/", victims_account(cast, account_claim=claim["id"]), format="json")
    assert r.status_code == 201, r.content
    stored.refresh_from_db()
    assert (stored.status, stored.vendor_id) == ("used", r.json()["id"])
    Vendor.objects.filter(pk=r.json()["id"]).delete()  # even with that stall gone, the claim is spent
    reused = client.post("/api/v1/vendors/", victims_account(cast, account_claim=claim["id"]), format="json")
    assert (reused.status_code, reused.json()["error"]["code"]) == (409, "account_claim_invalid")


def test_five_wrong_codes_end_the_claim(cast, far_volunteer):
    claim_id = ask(far_volunteer, cast, "sms_code").json()["id"]
    code = code_sent_to(cast.vendor.phone)
    client = client_for(far_volunteer)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    answers = [client.post(f"{CLAIMS}{claim_id}/confirm/", {"code": wrong}, format="json") for _ in range(5)]
    late = client.post(f"{CLAIMS}{claim_id}/confirm/", {"code": code}, format="json")

    assert [a.json()["error"]["code"] for a in answers] == ["wrong_code"] * 4 + ["claim_not_pending"]
    assert (late.status_code, late.json()["error"]["code"]) == (409, "claim_not_pending")
    assert SharedAccountClaim.objects.get(pk=claim_id).status == "rejected"


def test_a_code_expires(cast, far_volunteer):
    claim_id = ask(far_volunteer, cast, "sms_code").json()["id"]
    code = code_sent_to(cast.vendor.phone)
    SharedAccountClaim.objects.filter(pk=claim_id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    r = client_for(far_volunteer).post(f"{CLAIMS}{claim_id}/confirm/", {"code": code}, format="json")

    assert (r.status_code, r.json()["error"]["code"]) == (409, "claim_not_pending")
    assert SharedAccountClaim.objects.get(pk=claim_id).status == "expired"


def test_a_trader_is_not_flooded_with_codes(cast, far_volunteer):
    answers = [ask(far_volunteer, cast, "sms_code").status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    assert OutboundSms.objects.filter(to=cast.vendor.phone).count() == 3


def test_a_confirmed_claim_serves_only_the_market_it_was_asked_for(cast, far_volunteer):
    claim_id = ask(far_volunteer, cast, "sms_code").json()["id"]
    client_for(far_volunteer).post(
        f"{CLAIMS}{claim_id}/confirm/", {"code": code_sent_to(cast.vendor.phone)}, format="json"
    )
    elsewhere = make_volunteer(cast.other_market, "other_volunteer")
    make_volunteer(cast.far_market, "other_volunteer")  # may see the claim, but not for other_market

    r = client_for(elsewhere).post(
        "/api/v1/vendors/",
        new_vendor(
            cast.other_market,
            bank_bin=cast.vendor.bank_id,
            account_number=cast.vendor.account_number,
            account_claim=claim_id,
        ),
        format="json",
    )

    assert (r.status_code, r.json()["error"]["code"]) == (409, "account_claim_invalid")


# --- approved by the board holding the account ------------------------------------------------------


def test_the_holding_board_approves_a_claim_and_the_stall_is_registered(cast, far_volunteer):
    claim_id = ask(far_volunteer, cast, "board").json()["id"]
    assert not OutboundSms.objects.exists()

    seen = client_for(cast.board).get(CLAIMS).json()["results"]
    assert [(c["id"], c["holder"], c["market_name"]) for c in seen] == [(claim_id, cast.vendor.pk, "Chợ Hôm")]
    assert client_for(cast.other_board).get(f"{CLAIMS}{claim_id}/").status_code == 404
    assert client_for(far_volunteer).post(f"{CLAIMS}{claim_id}/approve/").status_code == 403
    assert client_for(cast.other_board).post(f"{CLAIMS}{claim_id}/approve/").status_code == 404

    approved = client_for(cast.board).post(f"{CLAIMS}{claim_id}/approve/", {"reason": "Chị Hoà bán chợ phiên"})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "board")

    r = client_for(far_volunteer).post("/api/v1/vendors/", victims_account(cast, account_claim=claim_id), format="json")
    assert r.status_code == 201, r.content


def test_the_holding_board_rejects_a_claim(cast, far_volunteer):
    claim_id = ask(far_volunteer, cast, "board").json()["id"]

    rejected = client_for(cast.officer).post(f"{CLAIMS}{claim_id}/reject/", {"reason": "Không phải chị Hoà"})
    r = client_for(far_volunteer).post("/api/v1/vendors/", victims_account(cast, account_claim=claim_id), format="json")

    assert rejected.json()["status"] == "rejected"
    assert (r.status_code, r.json()["error"]["code"]) == (409, "account_claim_invalid")
    assert_reveals_nothing(r.content.decode(), cast)


def test_whoever_asked_cannot_approve_their_own_claim(cast, far_volunteer):
    # The volunteer who asked later joins the holding board: someone else still decides.
    from market.models import BoardMember

    claim_id = ask(far_volunteer, cast, "board").json()["id"]
    BoardMember.objects.create(user=far_volunteer, market=cast.market)

    r = client_for(far_volunteer).post(f"{CLAIMS}{claim_id}/approve/")

    assert (r.status_code, r.json()["error"]["code"]) == (403, "own_claim")
    assert SharedAccountClaim.objects.get(pk=claim_id).status == "pending"
