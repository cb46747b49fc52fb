"""Seed the webhook benchmark's database: one market with ``N`` active vendors.

Run as ``python -m bench.webhooks_seed N`` with DATABASE_URL pointing at the
scratch database; prints ``[merchant code, account number]`` pairs as JSON.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(count: int) -> None:
    import django

    django.setup()
    from chopay.identifiers import generate_merchant_code
    from market.models import Market, Ward
    from vendors.models import Vendor

    ward = Ward.objects.filter(province_id="19").order_by("code").first()
    assert ward is not None, "reference data missing: run migrate first"
    market = Market.objects.create(
        name="Chợ Benchmark", code="BENCH", ward=ward, province=ward.province, stall_count=count
    )
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(generate_merchant_code())
    Vendor.objects.bulk_create(
        Vendor(
            market=market,
            full_name=f"Tiểu thương {i}",
            phone=f"+8491{i:07d}",
            stall_label=f"B-{i}",
            bank_id="970436",
            account_number=f"77{i:08d}",
            account_name="TIEU THUONG",
            merchant_code=code,
            status=Vendor.Status.ACTIVE,  # only active stalls take credits (docs/security.md, rule 1)
        )
        for i, code in enumerate(sorted(codes))
    )
    print(json.dumps([[code, f"77{i:08d}"] for i, code in enumerate(sorted(codes))]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
