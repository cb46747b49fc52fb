"""The cast: two markets in Thái Nguyên (one a former Bắc Kạn pilot) and one in
Hà Nội, with an officer, a board member, a volunteer and a vendor, plus
outsiders who must see nothing of the first market."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from market.models import Market, Ward
from tests.factories import (
    MarketFactory,
    UserFactory,
    VendorFactory,
    make_board,
    make_officer,
    make_vendor_user,
    make_volunteer,
)
from vendors.models import Vendor


@pytest.fixture(autouse=True, scope="session")
def _plain_http_test_client() -> None:
    """With DATABASE_URL set (CI), the settings are production's, which
    redirect plain HTTP to HTTPS; the test client speaks plain HTTP. The
    production settings themselves are tested in tests/config/test_deploy_settings.py."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _fresh_cache(django_db_setup: None, django_db_blocker: Any) -> None:
    """Each test starts with an empty cache (sign-in and webhook refusal counts
    live there; with REDIS_URL set it is this run's own Redis database, without
    it the database cache of the test database, hence the unblock)."""
    from django.core.cache import cache

    from common.breaker import REDIS

    REDIS.reset()  # a Redis failure staged by an earlier test must not skip Redis in this one
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest, _django_db_marker: None) -> None:
    """Transactional tests flush the database after themselves, taking the
    reference data loaded by migrations (provinces, wards, banks) with it.
    Before each one, load it again if it is gone — with the migration's own
    bulk loaders, which take a fraction of a second where restoring a
    serialized copy (``serialized_rollback``) takes about ten."""
    marker = request.node.get_closest_marker("django_db")
    if not marker or not marker.kwargs.get("transaction"):
        return
    from market.models import Bank, LegacyProvince, Province
    from market.reference_data import load_admin_units, load_banks

    if not Ward.objects.exists():
        load_admin_units(Province, Ward, LegacyProvince)
    if not Bank.objects.exists():
        load_banks(Bank)


@dataclass
class Cast:
    market: Market
    other_market: Market  # same province, different board
    far_market: Market  # another province
    officer: object
    board: object
    volunteer: object
    vendor: Vendor
    vendor_user: object
    other_vendor: Vendor  # in other_market
    other_board: object
    far_officer: object
    outsider: object
    admin: object


@pytest.fixture
def cast(db: None) -> Cast:
    tn_ward = Ward.objects.filter(province_id="19").order_by("code").first()
    hn_ward = Ward.objects.filter(province_id="01").order_by("code").first()
    market = MarketFactory(name="Chợ Đồng Quang", code="TN-DQ", ward=tn_ward)
    other = MarketFactory(name="Chợ Thái", code="TN-THAI", ward=tn_ward)
    far = MarketFactory(name="Chợ Hôm", code="HN-HOM", ward=hn_ward)
    vendor = VendorFactory(market=market, full_name="Nguyễn Thị Hoà", stall_label="A-12")
    other_vendor = VendorFactory(market=other, full_name="Trần Văn Bình")
    return Cast(
        market=market,
        other_market=other,
        far_market=far,
        officer=make_officer("19", "officer"),
        board=make_board(market, "board"),
        volunteer=make_volunteer(market, "volunteer"),
        vendor=vendor,
        vendor_user=make_vendor_user(vendor, "vendor"),
        other_vendor=other_vendor,
        other_board=make_board(other, "other_board"),
        far_officer=make_officer("01", "far_officer"),
        outsider=UserFactory(username="outsider"),
        admin=UserFactory(username="admin", is_superuser=True, is_staff=True),
    )


@pytest.fixture(autouse=True)
def _stats_read_pool() -> Iterator[None]:
    """A statistics read may leave its pool of threads with open connections
    (stats/concurrent.py): closed after each test, so that none outlives the
    test database."""
    yield
    from stats import concurrent

    concurrent.shutdown()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # The production hasher takes seconds per user on a loaded CI box; every
    # cast creates eight users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user: object) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)  # type: ignore[arg-type]
    return client


def needs_postgres() -> None:
    """Skip locally on SQLite; in CI (REQUIRE_POSTGRES=1) running without
    PostgreSQL is a failure, never a silent skip."""
    if connection.vendor == "postgresql":
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("this test needs PostgreSQL and REQUIRE_POSTGRES=1 is set")
    pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def free_port() -> int:
    """A TCP port nobody listens on now, for a server a test starts."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Browser tests (Playwright driving Debian's Chromium): the fixtures `browser` and
# `page_at`, and the list of saved screenshots at the end of the run (tests/browser.py).
from tests.browser import browser, page_at, pytest_terminal_summary  # noqa: E402, F401
