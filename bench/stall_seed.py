"""Seed the live-receipts benchmark's database: ``N`` active vendors spread
over a few markets, each with a user account and a signed-in session.

Run as ``python -m bench.stall_seed N`` with DATABASE_URL pointing at the
scratch database. The sessions are made by the project's session engine
(``SESSION_ENGINE = "accounts.sessions"``) with what ``django.contrib.auth.
login`` stores (user id, backend, session hash), so the server sees each
cookie as that vendor signed in. Prints one JSON object: the session cookie's
name and, per vendor, ``[vendor id, merchant code, account number, session
key]``.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MARKETS = 5


def main(count: int) -> None:
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from chopay.identifiers import generate_merchant_code
    from market.models import Market, Ward
    from vendors.models import Vendor

    user_model = get_user_model()
    wards = list(Ward.objects.filter(province_id="19").order_by("code")[:MARKETS])
    assert wards, "reference data missing: run migrate first"
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    backend = settings.AUTHENTICATION_BACKENDS[0]
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(generate_merchant_code())
    # One password hash for every account (no one signs in with it: the
    # sessions below are made directly); hashing 500 would take minutes.
    password = make_password("bench-only-not-a-password")
    with transaction.atomic():
        markets = [
            Market.objects.create(
                name=f"Chợ Benchmark {k}",
                code=f"BENCH-{k}",
                ward=ward,
                province=ward.province,
                stall_count=count // len(wards) + 1,
            )
            for k, ward in enumerate(wards)
        ]
        users = user_model.objects.bulk_create(
            user_model(username=f"bench-stall-{i}", password=password) for i in range(count)
        )
        vendors = Vendor.objects.bulk_create(
            Vendor(
                market=markets[i % len(markets)],
                user=users[i],
                full_name=f"Tiểu thương {i}",
                phone=f"+8492{i:07d}",
                stall_label=f"S-{i}",
                bank_id="970436",
                account_number=f"88{i:08d}",
                account_name="TIEU THUONG",
                merchant_code=code,
                status=Vendor.Status.ACTIVE,  # only active stalls take credits
            )
            for i, code in enumerate(sorted(codes))
        )
    rows = []
    for user, vendor in zip(users, vendors, strict=True):
        session = store_class()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        rows.append([vendor.pk, vendor.merchant_code, vendor.account_number, session.session_key])
    print(json.dumps({"cookie": settings.SESSION_COOKIE_NAME, "vendors": rows}))


def cursors() -> None:
    """Each vendor's ``payments.receipts.selectors.cursor_now`` (what the page
    puts in ``data-cursor``) and the deployment's receipt channel, as JSON
    ``{"cursors": {vendor id: cursor}, "channel": name}``; empty where the
    live part is not there."""
    import django

    django.setup()
    try:
        from payments.receipts.publish import channel_name  # type: ignore[import-not-found,unused-ignore]
        from payments.receipts.selectors import cursor_now  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        print(json.dumps({"cursors": {}, "channel": None}))
        return
    from vendors.models import Vendor

    found = {str(v.pk): cursor_now(v) for v in Vendor.objects.all()}
    print(json.dumps({"cursors": found, "channel": channel_name()}))


if __name__ == "__main__":
    if sys.argv[1:] == ["--cursors"]:
        cursors()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
