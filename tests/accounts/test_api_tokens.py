"""API tokens end: when unused for API_TOKEN_IDLE_TIMEOUT_DAYS, when the
password changes, when the user is deactivated; signing in again gives a fresh one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def sign_in(username: str = "board", password: str = "password") -> str:
    r = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert r.status_code == 200, r.content
    return str(r.json()["token"])


def vendors_with(key: str) -> Any:
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/vendors/")


def last_used(key: str, *, ago: dt.timedelta) -> None:
    ApiToken.objects.filter(key=key).update(last_used_at=timezone.now() - ago)


def test_a_token_unused_past_the_idle_timeout_is_refused(cast, settings):
    settings.API_TOKEN_IDLE_TIMEOUT_DAYS = 14
    key = sign_in()
    last_used(key, ago=dt.timedelta(days=14, minutes=1))

    r = vendors_with(key)

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_expired"
    assert r.json()["error"]["message"]


def test_a_token_in_use_stays_alive_and_records_its_use(cast, settings):
    settings.API_TOKEN_IDLE_TIMEOUT_DAYS = 14
    key = sign_in()
    last_used(key, ago=dt.timedelta(days=13, hours=23))

    assert vendors_with(key).status_code == 200

    token = ApiToken.objects.get(key=key)
    assert timezone.now() - token.last_used_at < dt.timedelta(minutes=1)


def test_it_records_use_at_most_once_a_minute(cast):
    key = sign_in()
    last_used(key, ago=dt.timedelta(seconds=30))
    before = ApiToken.objects.get(key=key).last_used_at

    assert vendors_with(key).status_code == 200

    assert ApiToken.objects.get(key=key).last_used_at == before


def test_signing_in_after_expiry_returns_a_fresh_token_that_works(cast):
    old = sign_in()
    last_used(old, ago=dt.timedelta(days=30))

    new = sign_in()

    assert new != old
    assert vendors_with(new).status_code == 200
    assert vendors_with(old).status_code == 401


def test_a_password_change_revokes_the_token(cast):
    key = sign_in()
    assert vendors_with(key).status_code == 200
    cast.board.set_password("a-new-long-password")
    cast.board.save()

    r = vendors_with(key)

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_revoked"
    fresh = sign_in(password="a-new-long-password")
    assert fresh != key
    assert vendors_with(fresh).status_code == 200


def test_deactivation_revokes_the_token(cast):
    key = sign_in()
    cast.board.is_active = False
    cast.board.save(update_fields=["is_active"])

    r = vendors_with(key)

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"
    refused = APIClient().post("/api/v1/auth/token/", {"username": "board", "password": "password"}, format="json")
    assert refused.status_code == 400
    cast.board.is_active = True
    cast.board.save(update_fields=["is_active"])
    assert vendors_with(key).status_code == 401  # reactivation does not bring the token back


def test_a_token_survives_a_rotation_of_the_secret_key_kept_as_fallback(cast, settings):
    key = sign_in()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-0123456789"

    assert vendors_with(key).status_code == 200
