"""Who sees and assigns an unmatched credit (security issue, holes 1 and 8):
only the scope that holds the receiving account — the boards of the markets
where an active stall holds it and their province officers; nobody but a
superuser when no stall holds it. And assign/reassign answer a vendor id of
another market exactly like one that does not exist."""

from __future__ import annotations

import pytest

from payments.models import Payment
from tests.conftest import client_for
from tests.factories import PaymentFactory, VendorFactory, make_board
from tests.payments.ledger.test_unmatched_queue import assign, give, queue_ids
from vendors.models import Vendor


@pytest.fixture
def hijacked(cast) -> Payment:
    """The issue's scene, as data from before the registration rule: a
    volunteer of a market in another province registered a pending decoy with
    the trader's account, and a credit was queued without a market."""
    VendorFactory.create(
        market=cast.far_market,
        bank_id=cast.vendor.bank_id,
        account_number=cast.vendor.account_number,
        status=Vendor.Status.PENDING,
    )
    return PaymentFactory.create(vendor=None, market=None, receiving_account=cast.vendor.account_number)


@pytest.fixture
def far_board(cast):
    return make_board(cast.far_market, "far_board")


@pytest.mark.parametrize("role", ["far_officer", "far_board", "other_board", "volunteer", "vendor_user", "outsider"])
def test_it_hides_a_credit_without_market_from_everyone_outside_the_holding_scope(cast, hijacked, far_board, role):
    user = far_board if role == "far_board" else getattr(cast, role)

    assert hijacked.id not in queue_ids(user)
    assert client_for(user).get(f"/api/v1/payments/{hijacked.id}/").status_code == 404
    decoy = Vendor.objects.get(market=cast.far_market)
    r = assign(user, hijacked, decoy.id)
    assert r.status_code == 404
    hijacked.refresh_from_db()
    assert hijacked.vendor_id is None


@pytest.mark.parametrize("role", ["board", "officer", "admin"])
def test_it_shows_a_credit_without_market_to_the_holding_board_and_its_province(cast, hijacked, role):
    user = getattr(cast, role)

    assert hijacked.id in queue_ids(user)
    r = assign(user, hijacked, cast.vendor.id)
    assert r.status_code == 200, r.content
    assert (r.json()["vendor"], r.json()["market"]) == (cast.vendor.id, cast.market.id)


def test_it_keeps_a_credit_nobody_holds_for_superusers_only(cast):
    nobody = PaymentFactory.create(vendor=None, market=None, receiving_account="5550001112")

    for user in (cast.officer, cast.board, cast.far_officer):
        assert nobody.id not in queue_ids(user)
    assert nobody.id in queue_ids(cast.admin)


def test_it_assigns_a_credit_without_market_only_to_a_market_holding_the_account(cast, hijacked):
    # The officer oversees both Thái Nguyên markets, but only cast.market holds the account.
    r = assign(cast.officer, hijacked, cast.other_vendor.id)

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "vendor_not_in_market"


# --- hole 8: no tell-tale answer about vendor ids --------------------------------------------


@pytest.mark.parametrize(
    ("action", "attribution"),
    [("assign", "account"), ("reassign", "merchant_code"), ("reassign", "request")],
)
def test_it_answers_a_vendor_of_another_market_like_a_vendor_that_does_not_exist(cast, action, attribution):
    # A payment the board may not give away (already attributed / chosen by the payer):
    # before, the check of the payment came first and told an existing id (409) from a missing one (404).
    paid = PaymentFactory.create(vendor=cast.vendor, attribution=attribution)
    missing_id = Vendor.objects.order_by("-pk").first().pk + 1000

    elsewhere = give(action, cast.board, paid, cast.other_vendor.id)
    missing = give(action, cast.board, paid, missing_id)

    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json()["error"]["code"] == missing.json()["error"]["code"] == "vendor_not_found"
    a, b = elsewhere.json()["error"], missing.json()["error"]
    assert a["message"].replace(str(cast.other_vendor.id), "N") == b["message"].replace(str(missing_id), "N")


def test_it_answers_a_vendor_user_the_same_whatever_vendor_id_they_send(cast):
    mine = PaymentFactory.create(vendor=cast.vendor, attribution="manual")

    existing = give("reassign", cast.vendor_user, mine, cast.other_vendor.id)
    missing = give("reassign", cast.vendor_user, mine, 987654)

    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()
