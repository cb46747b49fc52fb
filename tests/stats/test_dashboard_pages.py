"""The dashboard pages through Django's test client: who sees which page
(outside one's scope is a 404, signed out is the sign-in page), the figures
on a page equal the selector's, the presets and dates change the period, the
target form and the export links."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from stats import periods, scopes, selectors
from stats.formatting import format_date, format_dong, format_int
from stats.models import Target
from tests.stats.dashboard_data import month_of_payments

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def data(cast: Any) -> Any:
    month_of_payments(cast)
    return cast


def market_url(market: Any) -> str:
    return f"/dashboard/markets/{market.pk}/"


PROVINCE = "/dashboard/provinces/19/"
FAR_PROVINCE = "/dashboard/provinces/01/"


# --- who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dashboard/", PROVINCE, "/dashboard/volunteers/"])
def test_it_sends_a_signed_out_visitor_to_the_sign_in_page_and_back(client: Client, cast: Any, path: str) -> None:
    response = client.get(path + "?preset=7d")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert path in response["Location"]


def test_a_signed_out_visitor_is_sent_to_sign_in_from_a_market_page_too(client: Client, cast: Any) -> None:
    response = client.get(market_url(cast.market))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_board_member_sees_their_market_and_nothing_else(cast: Any) -> None:
    board = client_for(cast.board)
    assert board.get(market_url(cast.market)).status_code == 200
    assert board.get(market_url(cast.other_market)).status_code == 404
    assert board.get(market_url(cast.far_market)).status_code == 404
    assert board.get(PROVINCE).status_code == 404
    home = board.get("/dashboard/")  # their market, at /dashboard/
    assert home.status_code == 200 and home.context["stats"]["scope"] == {
        "kind": "market",
        "key": str(cast.market.pk),
        "name": cast.market.name,
    }


def test_a_province_officer_sees_their_province_and_its_markets_only(cast: Any) -> None:
    officer = client_for(cast.officer)
    assert officer.get(PROVINCE).status_code == 200
    assert officer.get(market_url(cast.market)).status_code == 200
    assert officer.get(market_url(cast.other_market)).status_code == 200
    assert officer.get(FAR_PROVINCE).status_code == 404
    assert officer.get(market_url(cast.far_market)).status_code == 404
    assert officer.get("/dashboard/provinces/99/").status_code == 404
    home = officer.get("/dashboard/?preset=7d")  # their province, at /dashboard/
    assert home.status_code == 200
    assert home.context["stats"]["scope"]["key"] == "19"
    assert home.context["stats"]["period"]["preset"] == "7d"


def test_an_officer_of_another_province_sees_none_of_this_one(cast: Any) -> None:
    far = client_for(cast.far_officer)
    assert far.get(PROVINCE).status_code == 404
    assert far.get(market_url(cast.market)).status_code == 404
    assert far.get(FAR_PROVINCE).status_code == 200


def test_a_volunteer_sees_no_money_only_their_own_leaderboard_row(data: Any) -> None:
    volunteer = client_for(data.volunteer)
    assert volunteer.get(PROVINCE).status_code == 404
    assert volunteer.get(market_url(data.market)).status_code == 404
    assert volunteer.get(f"/dashboard/volunteers/?market={data.market.pk}").status_code == 404
    home = volunteer.get("/dashboard/")
    assert home.status_code == 302 and home["Location"] == "/dashboard/volunteers/"
    page = volunteer.get("/dashboard/volunteers/?province=&market=")  # empty fields: their own row still
    assert page.status_code == 200
    assert [row["volunteer"]["id"] for row in page.context["board"]["volunteers"]] == [data.volunteer.pk]
    assert "₫" not in page.content.decode()


@pytest.mark.parametrize("who", ["vendor_user", "outsider"])
def test_a_vendor_or_an_outsider_finds_no_dashboard(cast: Any, who: str) -> None:
    user = client_for(getattr(cast, who))
    for path in ("/dashboard/", PROVINCE, market_url(cast.market), "/dashboard/volunteers/"):
        assert user.get(path).status_code == 404, path


def test_a_missing_market_is_a_404_like_one_out_of_scope(cast: Any) -> None:
    assert client_for(cast.admin).get("/dashboard/markets/999999/").status_code == 404


def test_a_superuser_sees_the_nation_with_a_link_to_each_province_with_markets(cast: Any) -> None:
    page = client_for(cast.admin).get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/dashboard/provinces/19/?' in html
    assert 'href="/dashboard/provinces/01/?' in html
    assert "/dashboard/provinces/02/" not in html  # no market there


# --- the figures are the selector's --------------------------------------------------------


def expected(user: Any, kind: str, key: Any, **period: Any) -> dict[str, Any]:
    return selectors.scope_stats(scopes.scope_for(user, kind, key), periods.resolve_period(**period))


def test_the_province_page_shows_the_selectors_figures(data: Any) -> None:
    page = client_for(data.officer).get(PROVINCE)
    stats = expected(data.officer, "province", "19")
    html = page.content.decode()

    assert page.context["stats"] == stats
    assert stats["payments_count"] > 100
    assert format_int(stats["payments_count"]) in html
    assert format_dong(stats["payments_value"]) in html
    assert format_dong(stats["average_ticket"]) in html
    # the ranking links each market, in the selector's order
    links = re.findall(r'href="/dashboard/markets/(\d+)/\?', html)
    assert [int(market_id) for market_id in links] == [row["id"] for row in stats["markets"]]
    # the former Bắc Kạn group
    assert any(group["code"] == "06" for group in stats["groups"])
    assert "Bắc Kạn" in html
    # one bar per day in each drawing of the trend
    assert html.count('class="bar"') == 2 * len(stats["series"]) * (1 + len(stats["groups"]))


def test_the_market_page_shows_the_follow_up_list_with_phones_to_call(data: Any) -> None:
    page = client_for(data.board).get(market_url(data.market))
    stats = expected(data.board, "market", data.market.pk)
    html = page.content.decode()

    assert page.context["stats"] == stats
    names = [row["name"] for row in stats["follow_up"]]
    assert "Phạm Thị Lan" in names and "Đỗ Văn Hùng" in names
    for row in stats["follow_up"]:
        assert row["name"] in html
        digits = re.sub(r"\D", "", row["phone"])
        assert f'href="tel:{digits}"' in html or f'href="tel:+{digits}"' in html
    for channel in stats["channels"]:
        assert channel["label"] in html
    assert format_int(stats["vendors_with_qr"]) in html


def test_the_leaderboard_shows_each_volunteers_onboarded_traders(data: Any) -> None:
    page = client_for(data.board).get("/dashboard/volunteers/")
    board = page.context["board"]
    assert board["scope"]["kind"] == "market"
    (row,) = board["volunteers"]
    assert row["volunteer"]["id"] == data.volunteer.pk
    assert row["onboarded"] == 3  # in the last 30 days: one who pays and the two to call
    assert f">{row['onboarded']}<" in page.content.decode()


# --- periods -------------------------------------------------------------------------------


def test_a_preset_changes_the_period_and_is_marked_as_chosen(data: Any) -> None:
    officer = client_for(data.officer)
    today = timezone.localdate()
    week = officer.get(PROVINCE + "?preset=7d")
    stats = week.context["stats"]
    assert stats["period"]["from"] == (today - dt.timedelta(days=6)).isoformat()
    assert stats == expected(data.officer, "province", "19", preset="7d")
    assert len(stats["series"]) == 7
    html = week.content.decode()
    assert format_date(today - dt.timedelta(days=6)) in html
    assert re.search(r'href="\?preset=7d"\s+aria-current="page"', html)
    month = officer.get(PROVINCE + "?preset=30d").context["stats"]
    assert month["payments_count"] > stats["payments_count"]


def test_a_date_range_and_granularity_are_taken_from_the_form(data: Any) -> None:
    today = timezone.localdate()
    start = today - dt.timedelta(days=20)
    page = client_for(data.board).get(
        market_url(data.market), {"from": start.isoformat(), "to": today.isoformat(), "granularity": "week"}
    )
    period = page.context["stats"]["period"]
    assert (period["from"], period["to"], period["granularity"], period["preset"]) == (
        start.isoformat(),
        today.isoformat(),
        "week",
        None,
    )
    assert page.context["period_form"]["from"].value() == start
    # exports ask the API for the same range
    assert f"from={start.isoformat()}" in page.context["exports"][0]["url"]


def test_a_wrong_range_is_shown_on_the_form_and_the_page_still_shows_30_days(data: Any) -> None:
    today = timezone.localdate()
    page = client_for(data.board).get(
        market_url(data.market), {"from": today.isoformat(), "to": (today - dt.timedelta(days=3)).isoformat()}
    )
    assert page.status_code == 200
    assert page.context["period_form"].errors
    assert page.context["stats"]["period"]["preset"] == "30d"
    assert 'class="error-summary"' in page.content.decode()


def test_a_date_that_is_not_a_date_is_an_error_not_a_crash(data: Any) -> None:
    page = client_for(data.board).get(market_url(data.market), {"from": "2026-13-45", "preset": "nope"})
    assert page.status_code == 200
    assert set(page.context["period_form"].errors) == {"from", "preset"}
    assert 'href="#id_preset"' not in page.content.decode()  # no such field on the page: the summary points at "from"


# --- exports -------------------------------------------------------------------------------


def test_the_export_buttons_download_the_same_figures_with_the_session(data: Any) -> None:
    board = client_for(data.board)
    page = board.get(market_url(data.market) + "?preset=7d")
    urls = [link["url"] for link in page.context["exports"]]
    assert urls == [
        f"/api/v1/stats/markets/{data.market.pk}/?preset=7d&granularity=day&format=csv",
        f"/api/v1/stats/markets/{data.market.pk}/?preset=7d&granularity=day&format=xlsx",
    ]
    csv = board.get(urls[0])
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert board.get(urls[1]).status_code == 200


# --- targets -------------------------------------------------------------------------------


def test_an_officer_sets_the_province_target_and_sees_it(data: Any) -> None:
    officer = client_for(data.officer)
    deadline = timezone.localdate() + dt.timedelta(days=200)
    response = officer.post(
        "/dashboard/province/19/target/", {"coverage": "100", "active": "60", "deadline": deadline.isoformat()}
    )
    assert response.status_code == 302 and response["Location"] == PROVINCE + "#target"
    target = Target.objects.get(province_id="19")
    assert (float(target.coverage), float(target.active), target.deadline, target.set_by) == (
        1.0,
        0.6,
        deadline,
        data.officer,
    )
    page = officer.get(PROVINCE)
    assert page.context["stats"]["target"]["active"] == 0.6
    assert format_date(deadline) in page.content.decode()
    assert page.context["target_form"].initial["active"] == 60.0


def test_a_board_member_sets_their_markets_target_but_not_anothers(data: Any) -> None:
    board = client_for(data.board)
    body = {"coverage": "90", "active": "50", "deadline": (timezone.localdate() + dt.timedelta(days=30)).isoformat()}
    assert board.post(f"/dashboard/market/{data.market.pk}/target/", body).status_code == 302
    assert Target.objects.filter(market=data.market).exists()
    assert board.post(f"/dashboard/market/{data.other_market.pk}/target/", body).status_code == 404
    assert board.post("/dashboard/province/19/target/", body).status_code == 404
    assert board.post("/dashboard/nation/x/target/", body).status_code == 404
    assert not Target.objects.filter(market=data.other_market).exists()


def test_a_wrong_target_is_shown_again_with_its_error(data: Any) -> None:
    board = client_for(data.board)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = board.post(
        f"/dashboard/market/{data.market.pk}/target/", {"coverage": "150", "active": "50", "deadline": past}
    )
    assert response.status_code == 400
    assert "coverage" in response.context["target_form"].errors
    response = board.post(
        f"/dashboard/market/{data.market.pk}/target/", {"coverage": "90", "active": "50", "deadline": past}
    )
    assert response.status_code == 400
    assert "deadline" in response.context["target_form"].errors  # the service's refusal, on its field
    assert not Target.objects.exists()


def test_the_target_form_needs_a_post_and_a_signed_in_user(client: Client, data: Any) -> None:
    assert client_for(data.board).get(f"/dashboard/market/{data.market.pk}/target/").status_code == 405
    assert client.post(f"/dashboard/market/{data.market.pk}/target/", {}).status_code == 302


# --- language -------------------------------------------------------------------------------


def test_the_page_is_vietnamese_with_vietnamese_numbers_and_english_by_the_switch(data: Any) -> None:
    # The middleware activates the page's language in this thread: put it back after.
    with translation.override("vi"):
        board = client_for(data.board)
        page = board.get(market_url(data.market), HTTP_ACCEPT_LANGUAGE="en-US")
        stats = page.context["stats"]
        html = page.content.decode()
        assert "Tiểu thương cần gọi hỏi thăm" in html
        assert format_dong(stats["payments_value"], lang="vi") in html  # 22.595.000 ₫
        assert format_date(stats["period"]["from"], lang="vi") in html  # 08/11/2026

        board.cookies["django_language"] = "en"
        html = board.get(market_url(data.market)).content.decode()
        assert "Traders to call" in html
        assert format_dong(stats["payments_value"], lang="en") in html  # 22,595,000 ₫
        assert format_date(stats["period"]["from"], lang="en") in html  # 8 Nov 2026
