"""``/``: the landing page for a visitor, each role's own page once signed in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from market.models import BoardMember
from tests.factories import MarketFactory

pytestmark = pytest.mark.django_db


def test_it_shows_a_visitor_what_cho_40_is_and_where_to_sign_in(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Chợ 4.0: đi chợ không cần tiền mặt" in html
    assert 'href="/login/"' in html
    assert "Đăng xuất" not in html


@pytest.mark.urls("tests.web.urls")
@pytest.mark.parametrize("who", ["admin", "officer"])
def test_it_sends_the_superuser_and_the_province_officer_to_the_province_dashboard(client, cast, who):
    client.force_login(getattr(cast, who))

    answer = client.get("/")

    assert answer.status_code == 302
    assert answer["Location"] == reverse("dashboard:home")


@pytest.mark.urls("tests.web.urls")
def test_it_sends_a_board_member_to_the_dashboard_of_their_first_market(client, cast):
    later = MarketFactory(code="TN-LATER", ward=cast.market.ward)
    BoardMember.objects.create(user=cast.board, market=later)
    client.force_login(cast.board)

    assert client.get("/")["Location"] == reverse("dashboard:market", args=[cast.market.pk])


@pytest.mark.urls("tests.web.urls")
def test_it_sends_an_officer_who_also_sits_on_a_board_to_the_province_dashboard(client, cast):
    BoardMember.objects.create(user=cast.officer, market=cast.market)
    client.force_login(cast.officer)

    assert client.get("/")["Location"] == reverse("dashboard:home")


def test_it_sends_a_volunteer_to_the_onboarding_pages(client, cast):
    client.force_login(cast.volunteer)

    page = client.get("/")

    assert page.status_code == 302
    assert page["Location"] == reverse("onboard:start")


def test_it_sends_a_trader_to_their_stall_page(client, cast):
    client.force_login(cast.vendor_user)

    page = client.get("/")

    assert page.status_code == 302
    assert page["Location"] == reverse("stall:home")


def test_it_tells_a_login_without_a_role_whom_to_ask(client, cast):
    client.force_login(cast.outsider)

    html = client.get("/").content.decode()

    assert "Tài khoản của bạn chưa được giao vai trò nào" in html


@pytest.mark.urls("tests.web.urls_without_dashboard")
@pytest.mark.parametrize(
    ("who", "coming"),
    [("officer", "Bảng theo dõi của tỉnh"), ("board", "Bảng theo dõi của chợ bạn")],
)
def test_it_says_the_dashboard_is_coming_while_it_is_not_installed(client, cast, who, coming):
    client.force_login(getattr(cast, who))

    page = client.get("/")

    assert page.status_code == 200
    assert coming in page.content.decode()


def test_it_speaks_english_on_the_trader_s_page_after_the_switch(client, cast):
    client.force_login(cast.vendor_user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get("/", follow=True).content.decode()

    assert "Received today" in html
    assert '<span class="badge">Trader</span>' in html


def test_it_answers_an_unknown_page_with_a_page_in_the_site_s_language(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 404
    html = page.content.decode()
    assert "Không tìm thấy trang" in html
    assert 'href="/"' in html


def test_it_still_answers_an_unknown_api_path_in_json(client):
    answer = client.get("/api/v1/no-such-thing/")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
