from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from market.models import Bank, LegacyProvince, Province, Ward
from market.reference_data import load_admin_units, load_banks


class Command(BaseCommand):
    help = "Upsert provinces, wards/communes, legacy provinces and NAPAS banks from market/data and chopay/data."

    def handle(self, *args: Any, **options: Any) -> None:
        provinces, wards, legacy = load_admin_units(Province, Ward, LegacyProvince)
        banks = load_banks(Bank)
        self.stdout.write(f"{provinces} provinces, {wards} wards/communes, {legacy} legacy provinces, {banks} banks")
