"""List bank accounts that stalls of several markets hold, for an audit.

Since the registration rule (``vendors.services.account_claim_check``) a
second market's stall gets an account only through a shared-account claim
confirmed by the trader's SMS code or approved by the holding board. Accounts
shared before it — or by the holding board itself — are listed with, for each
stall, whether a claim covers it, so that an auditor can check the rest with
the boards. Attribution already sends such an account's credits to the first
active stall (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count

from vendors.models import SharedAccountClaim, Vendor


class Command(BaseCommand):
    help = "List bank accounts held by stalls in more than one market, and whether a claim covers each stall."

    def handle(self, *args: Any, **options: Any) -> None:
        shared = (
            Vendor.objects.values("bank_id", "account_number")
            .annotate(markets=Count("market", distinct=True))
            .filter(markets__gt=1)
            .order_by("bank_id", "account_number")
        )
        claimed = set(
            SharedAccountClaim.objects.filter(status=SharedAccountClaim.Status.USED).values_list("vendor_id", flat=True)
        )
        count = 0
        for row in shared:
            count += 1
            self.stdout.write(f"{row['bank_id']} {row['account_number']}: {row['markets']} markets")
            stalls = Vendor.objects.filter(bank_id=row["bank_id"], account_number=row["account_number"]).order_by("pk")
            for first, vendor in enumerate(stalls):
                how = "first registration" if first == 0 else ("claim" if vendor.pk in claimed else "NO CLAIM")
                self.stdout.write(
                    f"  vendor {vendor.pk} {vendor.merchant_code} market {vendor.market_id} {vendor.status}: {how}"
                )
        self.stdout.write(f"{count} shared account(s)")
