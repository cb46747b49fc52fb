"""One sign-in throttle for the admin and the API: per account and per
address, in a cache every process shares, closed when that cache is down."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.conftest import free_port

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGIN_URL = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["configured", "database"])
def shared_cache(request: pytest.FixtureRequest) -> Any:
    """The cache the settings configure (Redis in CI, the database table
    without REDIS_URL), and the database cache explicitly: either way the
    counters are shared by every client and process."""
    if request.param == "configured":
        yield
        return
    with override_settings(CACHES={"default": {"BACKEND": "common.cache.DatabaseCache", "LOCATION": "test_cache"}}):
        call_command("createcachetable", verbosity=0)
        yield


def client_at(address: str, **extra: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address, **extra)


def token(client: Client, username: str, password: str) -> Any:
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")  # type: ignore[call-arg]


def admin_login(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"})


# --- the admin -----------------------------------------------------------------------------


def test_it_keeps_the_admin_shut_after_100_wrong_passwords_even_to_the_right_one(cast):
    client = Client()
    for attempt in range(100):
        assert admin_login(client, "admin", f"guess-{attempt}").status_code == 200

    r = admin_login(client, "admin", "password")

    assert r.status_code == 200  # the form again, no redirect into the admin
    assert "_auth_user_id" not in client.session
    assert "Quá nhiều lần đăng nhập sai" in r.content.decode()
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_it_lets_the_admin_in_below_the_limit(cast):
    client = Client()
    for attempt in range(4):
        admin_login(client, "admin", f"guess-{attempt}")

    r = admin_login(client, "admin", "password")

    assert r.status_code == 302
    assert r["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(cast.admin.pk)


def test_the_admin_and_the_api_share_the_account_count(cast):
    for attempt in range(3):
        admin_login(Client(), "admin", f"guess-{attempt}")
    for attempt in range(2):
        token(client_at("198.51.100.2"), "admin", f"guess-{attempt}")

    assert token(client_at("198.51.100.3"), "admin", "password").status_code == 429


# --- the API, per account and per address ---------------------------------------------------


@pytest.mark.usefixtures("shared_cache")
def test_it_counts_failures_per_account_across_addresses_and_letter_case(cast):
    first, second = client_at("198.51.100.1"), client_at("198.51.100.2")
    answers = [token(first, "board", f"guess-{i}") for i in range(3)]
    answers += [token(second, "BOARD", f"guess-{i}") for i in range(2)]
    assert [r.status_code for r in answers] == [400] * 5

    refused = token(first, "board", "password")  # the right password, one attempt too many
    also_refused = token(client_at("198.51.100.9"), "Board", "password")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert refused.json()["error"]["message"]
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert also_refused.status_code == 429
    assert token(first, "officer", "password").status_code == 200  # other accounts are not locked


@pytest.mark.usefixtures("shared_cache")
def test_it_counts_unknown_usernames_like_real_ones(cast):
    client = client_at("198.51.100.1")
    statuses = [token(client, "nobody", f"guess-{i}").status_code for i in range(6)]

    assert statuses == [400] * 5 + [429]


@pytest.mark.usefixtures("shared_cache")
def test_it_counts_failures_per_address_across_accounts(cast):
    spraying, elsewhere = client_at("198.51.100.1"), client_at("198.51.100.2")
    statuses = [token(spraying, f"name{i}", "password").status_code for i in range(20)]
    assert statuses == [400] * 20

    assert token(spraying, "board", "password").status_code == 429  # right password, spent address
    assert token(elsewhere, "board", "password").status_code == 200


@pytest.mark.usefixtures("shared_cache")
def test_a_burst_across_the_boundary_of_two_windows_meets_the_same_limit(cast, settings, monkeypatch):
    """Counted in fixed windows alone, five failures just before a window ends
    and five more just after it would all be checked: ten guesses in seconds.
    The previous window's failures still count for the share of it that lies
    within the last LOGIN_WINDOW_SECONDS."""
    from accounts import sign_in

    length = settings.LOGIN_WINDOW_SECONDS
    boundary = (1_900_000_000 // length + 1) * length
    clock = {"now": boundary - 2.0}
    monkeypatch.setattr(sign_in.time, "time", lambda: clock["now"])
    client = client_at("198.51.100.1")

    before = [token(client, "board", f"guess-{i}").status_code for i in range(5)]
    clock["now"] = boundary + 2.0  # the next window has begun
    after = [token(client, "board", f"guess-{i}").status_code for i in range(5)]
    clock["now"] = boundary + length / 2  # half the old window is still within the last window's length
    still = token(client, "officer", "password").status_code  # another account from the same address
    locked = token(client_at("198.51.100.2"), "board", "password").status_code
    clock["now"] = boundary + 2 * length + 2.0  # a whole window without attempts
    again = token(client_at("198.51.100.3"), "board", "password").status_code

    assert before == [400] * 5
    assert after == [429] * 5
    assert still == 200
    assert locked == 429
    assert again == 200


def test_a_success_clears_the_account_count_but_not_the_address_count(cast):
    client = client_at("198.51.100.1")
    statuses = [token(client, "board", f"guess-{i}").status_code for i in range(4)]
    statuses.append(token(client, "board", "password").status_code)
    statuses += [token(client, "board", f"guess-{i}").status_code for i in range(4)]  # account count restarted
    statuses += [token(client, f"name{i}", "x").status_code for i in range(12)]  # 20 failures from here
    statuses.append(token(client, "officer", "password").status_code)

    assert statuses == [400] * 4 + [200] + [400] * 16 + [429]


# --- the address behind proxies ---------------------------------------------------------------


def test_it_ignores_x_forwarded_for_from_a_client_that_is_not_a_trusted_proxy(cast, settings):
    settings.TRUSTED_PROXIES = []
    statuses = [
        token(client_at("198.51.100.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"), f"name{i}", "x").status_code
        for i in range(20)
    ]
    assert statuses == [400] * 20

    r = token(client_at("198.51.100.1", HTTP_X_FORWARDED_FOR="192.0.2.200"), "board", "password")

    assert r.status_code == 429  # a new X-Forwarded-For each time bought no new guesses


def test_it_counts_each_client_behind_the_proxies_apart(cast, settings):
    """nginx at 10.0.0.5 behind a TLS terminator at 10.0.0.9: clients get a
    bucket each (not the terminator's), and what a client writes into
    X-Forwarded-For itself changes nothing."""
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]

    def via_proxies(client_ip: str, spoofed: str) -> APIClient:
        return client_at("10.0.0.5", HTTP_X_FORWARDED_FOR=f"{spoofed}, {client_ip}, 10.0.0.9")

    statuses = [token(via_proxies("198.51.100.7", f"192.0.2.{i}"), f"name{i}", "x").status_code for i in range(20)]
    assert statuses == [400] * 20

    assert token(via_proxies("198.51.100.7", "192.0.2.99"), "board", "password").status_code == 429
    assert token(via_proxies("198.51.100.8", "192.0.2.1"), "board", "password").status_code == 200


# --- the cache down ---------------------------------------------------------------------------


@pytest.fixture
def cache_down() -> Any:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": dead,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
    ):
        yield


def test_the_api_refuses_sign_in_with_503_while_the_cache_is_down(cast, cache_down):
    r = token(client_at("198.51.100.1"), "board", "password")

    assert r.status_code == 503
    assert r.json()["error"]["code"] == "sign_in_unavailable"
    assert int(r["Retry-After"]) > 0
    assert "token" not in r.json()


def test_the_admin_refuses_sign_in_with_a_message_while_the_cache_is_down(cast, cache_down):
    client = Client()

    r = admin_login(client, "admin", "password")

    assert r.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Tạm thời không thể đăng nhập" in r.content.decode()


def test_a_token_already_issued_keeps_working_while_the_cache_is_down(cast):
    key = token(client_at("198.51.100.1"), "board", "password").json()["token"]
    dead = f"redis://127.0.0.1:{free_port()}/0"

    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    ):
        r = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/vendors/")

    assert r.status_code == 200


# --- Redis down, the database cache beside it (the production settings) ------------------------


@pytest.fixture
def redis_down_database_up() -> Any:
    """Production's CACHES with Redis gone: the default cache is a dead Redis,
    the sign-in fallback the database table."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": dead,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            },
            "sign_in_fallback": {"BACKEND": "common.cache.DatabaseCache", "LOCATION": "test_fallback_cache"},
        }
    ):
        call_command("createcachetable", verbosity=0)
        yield


def test_the_production_settings_keep_a_database_fallback_beside_redis():
    from django.conf import settings

    if "RedisCache" in settings.CACHES["default"]["BACKEND"]:
        assert settings.CACHES["sign_in_fallback"]["BACKEND"] == "common.cache.DatabaseCache"


def test_the_api_and_the_web_page_sign_in_while_redis_is_down(cast, redis_down_database_up):
    r = token(client_at("198.51.100.1"), "board", "password")
    assert r.status_code == 200
    assert r.json()["token"]

    client = Client()
    r = client.post("/login/", {"username": "vendor", "password": "password"})
    assert r.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.vendor_user.pk)


def test_sign_in_stays_throttled_while_redis_is_down(cast, redis_down_database_up):
    for _ in range(5):
        assert token(client_at("198.51.100.2"), "board", "wrong").status_code == 400

    r = token(client_at("198.51.100.3"), "board", "password")

    assert r.status_code == 429
    assert "token" not in r.json()
