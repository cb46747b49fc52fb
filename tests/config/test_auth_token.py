"""``POST /api/v1/auth/token/`` and the two ways of being logged in."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The login throttle counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def test_it_exchanges_a_password_for_a_token(api, cast):
    r = api.post("/api/v1/auth/token/", {"username": "board", "password": "password"}, format="json")

    assert r.status_code == 200, r.content
    assert set(r.json()) == {"token"}
    assert len(r.json()["token"]) >= 20


def test_it_returns_the_same_token_twice(api, cast):
    first = api.post("/api/v1/auth/token/", {"username": "board", "password": "password"}, format="json")
    second = api.post("/api/v1/auth/token/", {"username": "board", "password": "password"}, format="json")

    assert first.json()["token"] == second.json()["token"]


def test_it_accepts_the_token_in_the_authorization_header(api, cast):
    token = api.post("/api/v1/auth/token/", {"username": "board", "password": "password"}, format="json").json()[
        "token"
    ]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = client.get("/api/v1/vendors/")

    assert r.status_code == 200
    assert [v["id"] for v in r.json()["results"]] == [cast.vendor.pk]


def test_it_refuses_a_wrong_password(api, cast):
    r = api.post("/api/v1/auth/token/", {"username": "board", "password": "wrong"}, format="json")

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"]
    assert error["message"]
    assert "token" not in r.json()


def test_it_refuses_an_unknown_user(api, cast):
    r = api.post("/api/v1/auth/token/", {"username": "nobody", "password": "password"}, format="json")

    assert r.status_code == 400
    assert "error" in r.json()


def test_it_names_a_missing_field(api, cast):
    r = api.post("/api/v1/auth/token/", {"username": "board"}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "required"
    assert "password" in r.json()["error"]["fields"]


def test_it_refuses_a_bad_token(api, cast):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    r = api.get("/api/v1/vendors/")

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"


def test_it_accepts_a_session_for_api_reads(cast):
    client = APIClient()
    assert client.login(username="officer", password="password")

    r = client.get("/api/v1/markets/")

    assert r.status_code == 200
    assert {m["code"] for m in r.json()["results"]} == {cast.market.code, cast.other_market.code}


def test_it_throttles_password_guessing(api, cast):
    statuses = [
        api.post("/api/v1/auth/token/", {"username": "board", "password": f"guess{i}"}, format="json") for i in range(6)
    ]

    assert [r.status_code for r in statuses[:5]] == [400] * 5
    assert statuses[5].status_code == 429
    assert statuses[5].json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(statuses[5]["Retry-After"]) <= 15 * 60
