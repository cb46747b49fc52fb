"""``manage.py shared_accounts``: the audit list of accounts several markets hold."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import VendorFactory
from vendors.models import SharedAccountClaim

pytestmark = pytest.mark.django_db


def test_it_lists_accounts_held_in_several_markets_and_flags_stalls_without_a_claim(cast):
    covered = VendorFactory(
        market=cast.other_market, bank_id=cast.vendor.bank_id, account_number=cast.vendor.account_number
    )
    decoy = VendorFactory(
        market=cast.far_market, bank_id=cast.vendor.bank_id, account_number=cast.vendor.account_number
    )
    from django.utils import timezone

    SharedAccountClaim.objects.create(
        market=cast.other_market, bank_id=cast.vendor.bank_id, account_number=cast.vendor.account_number,
        holder=cast.vendor, method="board", status="used", vendor=covered, expires_at=timezone.now(),
    )  # fmt: skip
    out = StringIO()

    call_command("shared_accounts", stdout=out)

    text = out.getvalue()
    assert f"{cast.vendor.bank_id} {cast.vendor.account_number}: 3 markets" in text
    assert (
        f"vendor {cast.vendor.pk} {cast.vendor.merchant_code} market {cast.market.pk} active: first registration"
        in text
    )
    assert f"vendor {covered.pk} " in text and f"market {cast.other_market.pk} active: claim" in text
    assert f"vendor {decoy.pk} {decoy.merchant_code} market {cast.far_market.pk} active: NO CLAIM" in text
    assert text.strip().endswith("1 shared account(s)")
