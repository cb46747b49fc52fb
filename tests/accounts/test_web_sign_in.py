"""The web sign-in page: a username or the stall's phone number, the same
throttle as the admin and the API, and ``next`` only to this site."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import VendorFactory, make_vendor_user

pytestmark = pytest.mark.django_db

PASSWORD = "cho40-test-pass"
WRONG_LOGIN = "Tên đăng nhập, số điện thoại hoặc mật khẩu không đúng"
LOCKED = "Quá nhiều lần đăng nhập sai"


@pytest.fixture
def people(cast: Any) -> Any:
    for user in (cast.board, cast.vendor_user):
        user.set_password(PASSWORD)
        user.save()
    cast.vendor.phone = "+84912345678"
    cast.vendor.save(update_fields=["phone"])
    return cast


def sign_in(client: Client, username: str, password: str = PASSWORD, **data: str) -> Any:
    return client.post("/login/", {"username": username, "password": password, **data})


def test_it_shows_labelled_fields(client):
    page = client.get("/login/").content.decode()

    assert '<label for="id_username">Tên đăng nhập hoặc số điện thoại</label>' in page
    assert '<label for="id_password">Mật khẩu</label>' in page


def test_it_signs_in_with_the_username_and_goes_home(client, people):
    answer = sign_in(client, "board")

    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert client.session["_auth_user_id"] == str(people.board.pk)


def test_it_refuses_a_wrong_password_in_vietnamese(client, people):
    answer = sign_in(client, "board", "wrong")

    assert answer.status_code == 200
    assert WRONG_LOGIN in answer.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("typed", ["0912345678", "0912 345 678", "+84912345678", "84912345678", "0912.345.678"])
def test_it_signs_a_trader_in_with_the_phone_of_their_stall_however_it_is_written(client, people, typed):
    answer = sign_in(client, typed)

    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(people.vendor_user.pk)


def test_it_counts_failures_by_phone_against_the_same_account_as_by_username(client, people):
    for attempt in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        spelled = ["0912345678", "+84 912 345 678"][attempt % 2]
        assert WRONG_LOGIN in sign_in(client, spelled, f"guess-{attempt}").content.decode()

    refused = sign_in(client, "vendor")  # the right password, by username

    assert LOCKED in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_counts_an_unknown_number_once_however_it_is_written(client, people):
    for attempt in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        spelled = ["0987654321", "+84987654321", "0987 654 321"][attempt % 3]
        sign_in(client, spelled, f"guess-{attempt}")

    assert LOCKED in sign_in(client, "84987654321", "again").content.decode()


def test_it_does_not_sign_in_by_a_phone_two_logins_share(client, people):
    elsewhere = VendorFactory(market=people.other_market, phone="+84912345678")
    other = make_vendor_user(elsewhere, "vendor2")
    other.set_password(PASSWORD)
    other.save()

    assert WRONG_LOGIN in sign_in(client, "0912345678").content.decode()
    assert sign_in(client, "vendor2").status_code == 302  # the username still works


def test_it_shares_the_lockout_with_the_api(client, people):
    for attempt in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        sign_in(client, "board", f"guess-{attempt}")

    api = APIClient().post("/api/v1/auth/token/", {"username": "board", "password": PASSWORD}, format="json")

    assert api.status_code == 429


def test_it_gives_an_api_token_for_the_stall_phone_too(people):
    api = APIClient().post("/api/v1/auth/token/", {"username": "0912 345 678", "password": PASSWORD}, format="json")

    assert api.status_code == 200
    assert api.json()["token"]


def test_it_follows_next_to_a_path_of_this_site(client, people):
    answer = sign_in(client, "board", next="/dashboard/?period=7d")

    assert answer["Location"] == "/dashboard/?period=7d"


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/", "//evil.example/", "http://testserver/admin/", "/\\evil.example", "javascript:alert(1)"],
)
def test_it_does_not_follow_next_off_this_site_or_as_a_full_url(client, people, elsewhere):
    answer = sign_in(client, "board", next=elsewhere)

    assert answer.status_code == 302
    assert answer["Location"] == "/"


def test_it_keeps_next_through_a_failed_attempt(client, people):
    hidden = '<input type="hidden" name="next" value="/dashboard/">'
    assert hidden in client.get("/login/?next=/dashboard/").content.decode()
    assert hidden in sign_in(client, "board", "wrong", next="/dashboard/").content.decode()

    assert sign_in(client, "board", next="/dashboard/")["Location"] == "/dashboard/"


def test_it_sends_a_signed_in_user_past_the_sign_in_page(client, people):
    client.force_login(people.board)

    assert client.get("/login/")["Location"] == "/"


def test_it_signs_out_only_by_post(client, people):
    client.force_login(people.board)

    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session

    answer = client.post("/logout/")
    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_sign_out_without_the_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.board)

    assert client.post("/logout/").status_code == 403
    assert "_auth_user_id" in client.session
