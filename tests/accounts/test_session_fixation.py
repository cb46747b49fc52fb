"""Session fixation: a session key planted in the browser before sign-in
(a shared phone, a link that sets the cookie) is never the signed-in
session — on the web sign-in, the admin's, and the API token sign-in, which
makes no session at all."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db

PASSWORD = "cho40-test-pass"


@pytest.fixture
def board(cast: Any) -> Any:
    cast.board.set_password(PASSWORD)
    cast.board.is_staff = True
    cast.board.save()
    return cast.board


def planted() -> tuple[Client, str]:
    """A browser holding a session the attacker made and knows the key of."""
    store = SessionStore()
    store["planted"] = True
    store.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key
    return client, str(store.session_key)


def signed_in_with(key: str) -> bool:
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = key
    return bool(attacker.get("/api/v1/markets/").status_code == 200)


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_signing_in_on_a_page_gives_a_new_session_key(board: Any, path: str) -> None:
    client, key = planted()

    answer = client.post(path, {"username": board.username, "password": PASSWORD, "next": "/"})

    assert answer.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != key
    assert signed_in_with(new_key)  # the browser is signed in…
    assert not signed_in_with(key)  # …and the planted key is not


def test_the_api_token_sign_in_leaves_a_planted_session_signed_out(board: Any) -> None:
    client, key = planted()

    answer = client.post("/api/v1/auth/token/", {"username": board.username, "password": PASSWORD})

    assert answer.status_code == 200
    assert answer.json()["token"]
    assert not signed_in_with(key)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == key  # no session made or changed
