"""/api/v1/stats/…: who sees which scope (404 outside it, 401 signed out),
bad input in the project's error form, and the figures as JSON."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NOVEMBER = "from=2026-11-01&to=2026-11-30"


def urls(data) -> dict[str, str]:
    return {
        "home": "/api/v1/stats/",
        "province": "/api/v1/stats/provinces/19/",
        "far_province": "/api/v1/stats/provinces/01/",
        "ward": f"/api/v1/stats/wards/{data.market.ward_id}/",
        "far_ward": f"/api/v1/stats/wards/{data.cast.far_market.ward_id}/",
        "market": f"/api/v1/stats/markets/{data.market.pk}/",
        "other_market": f"/api/v1/stats/markets/{data.cast.other_market.pk}/",
        "far_market": f"/api/v1/stats/markets/{data.cast.far_market.pk}/",
    }


# What each member of the cast may open (every other stats URL answers 404).
VISIBLE = {
    "admin": {"home", "province", "far_province", "ward", "far_ward", "market", "other_market", "far_market"},
    "officer": {"home", "province", "ward", "market", "other_market"},
    "far_officer": {"home", "far_province", "far_ward", "far_market"},
    "board": {"home", "market"},
    "other_board": {"home", "other_market"},
    "volunteer": set(),
    "vendor_user": set(),
    "outsider": set(),
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_each_role_sees_its_scopes_and_nothing_else(data, who: str) -> None:
    client = client_for(getattr(data.cast, who))
    for name, url in urls(data).items():
        for fmt in ("json", "csv"):
            response = client.get(f"{url}?{NOVEMBER}&format={fmt}")
            expected = 200 if name in VISIBLE[who] else 404
            assert response.status_code == expected, (who, name, fmt, response.content[:200])
            if expected == 404:
                assert response.json()["error"]["code"] == "not_found"


def test_home_is_each_managers_own_scope(data) -> None:
    kinds = {}
    for who in ("admin", "officer", "far_officer", "board"):
        scope = client_for(getattr(data.cast, who)).get("/api/v1/stats/").json()["scope"]
        kinds[who] = (scope["kind"], scope["key"])
    assert kinds == {
        "admin": ("nation", ""),
        "officer": ("province", "19"),
        "far_officer": ("province", "01"),
        "board": ("market", str(data.market.pk)),
    }


def test_signed_out_is_401_everywhere(data, api: APIClient) -> None:
    for url in [*urls(data).values(), "/api/v1/stats/volunteers/"]:
        assert api.get(url).status_code == 401, url
    for url in ("/api/v1/stats/provinces/19/target/", f"/api/v1/stats/markets/{data.market.pk}/target/"):
        assert api.put(url, {}, format="json").status_code == 401, url


def test_unknown_scopes_are_404_like_foreign_ones(data) -> None:
    admin = client_for(data.cast.admin)
    for url in (
        "/api/v1/stats/provinces/99/", "/api/v1/stats/provinces/1%00/", "/api/v1/stats/provinces/abc/",
        "/api/v1/stats/wards/99999/", "/api/v1/stats/markets/999999/", "/api/v1/stats/markets/99999999999999999999/",
    ):  # fmt: skip
        response = admin.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-12-01&to=2026-11-01", "invalid_period"),
        ("from=2020-01-01&to=2026-11-01", "period_too_long"),
        ("preset=30d&from=2026-11-01", "invalid_period"),
        ("preset=yesterday", "invalid_choice"),
        ("granularity=hour", "invalid_choice"),
        ("format=pdf", "invalid_choice"),
        ("from=2026-02-30", "invalid"),
        ("from=0001-01-01", "invalid_date"),
    ],
)
def test_bad_queries_are_400_in_the_error_form(data, query: str, code: str) -> None:
    response = client_for(data.cast.board).get(f"/api/v1/stats/markets/{data.market.pk}/?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_a_bad_query_outside_ones_scope_is_still_404(data) -> None:
    response = client_for(data.cast.board).get(f"/api/v1/stats/markets/{data.cast.far_market.pk}/?format=pdf")
    assert response.status_code == 404


def test_market_json_carries_the_figures_and_the_follow_up(data) -> None:
    body = client_for(data.cast.board).get(f"/api/v1/stats/markets/{data.market.pk}/?{NOVEMBER}").json()
    assert (body["payments_count"], body["payments_value"], body["coverage"]) == (6, 330_000, 0.4)
    assert [row["stall"] for row in body["follow_up"]] == ["A-03", "C-07"]
    assert "markets" not in body and "groups" not in body
    week = client_for(data.cast.board).get(f"/api/v1/stats/markets/{data.market.pk}/?preset=week&granularity=day")
    assert week.json()["period"]["preset"] == "week"


def test_province_json_ranks_markets_and_groups_them(data) -> None:
    body = client_for(data.cast.officer).get(f"/api/v1/stats/provinces/19/?{NOVEMBER}&granularity=week").json()
    assert [row["rank"] for row in body["markets"]] == [1, 2]
    assert [group["code"] for group in body["groups"]] == ["06", None]
    assert len(body["series"]) == 6


VOLUNTEERS_VISIBLE = {
    # who: volunteer names listed for the autumn (every volunteer of the scope, or one's own row)
    "admin": {"Tình Lê Văn", "volunteer"},
    "officer": {"Tình Lê Văn", "volunteer"},
    "board": {"Tình Lê Văn", "volunteer"},
    "volunteer": {"volunteer"},
    "far_officer": set(),
    "other_board": set(),
}


@pytest.mark.parametrize("who", sorted(VOLUNTEERS_VISIBLE))
def test_volunteer_statistics_by_role(data, who: str) -> None:
    response = client_for(getattr(data.cast, who)).get("/api/v1/stats/volunteers/?from=2026-09-01&to=2026-11-30")
    assert response.status_code == 200
    assert {row["volunteer"]["name"] for row in response.json()["volunteers"]} == VOLUNTEERS_VISIBLE[who]


@pytest.mark.parametrize("who", ["vendor_user", "outsider"])
def test_vendors_and_outsiders_get_no_volunteer_statistics(data, who: str) -> None:
    assert client_for(getattr(data.cast, who)).get("/api/v1/stats/volunteers/").status_code == 404


def test_the_helper_volunteer_sees_only_his_own_row(data) -> None:
    rows = client_for(data.helper).get("/api/v1/stats/volunteers/?from=2026-09-01&to=2026-11-30").json()
    assert [row["volunteer"]["name"] for row in rows["volunteers"]] == ["Tình Lê Văn"]
    assert rows["onboarded"] == 3


def test_volunteer_statistics_narrowed_to_a_market_or_province(data) -> None:
    officer = client_for(data.cast.officer)
    mine = officer.get(f"/api/v1/stats/volunteers/?market={data.market.pk}&from=2026-09-01&to=2026-11-30")
    assert mine.json()["scope"]["kind"] == "market" and mine.json()["onboarded"] == 4
    other = officer.get(f"/api/v1/stats/volunteers/?market={data.cast.other_market.pk}&from=2026-09-01&to=2026-11-30")
    assert other.json()["onboarded"] == 0
    assert officer.get("/api/v1/stats/volunteers/?province=01").status_code == 404
    assert officer.get(f"/api/v1/stats/volunteers/?market={data.cast.far_market.pk}").status_code == 404
    assert client_for(data.cast.volunteer).get(f"/api/v1/stats/volunteers/?market={data.market.pk}").status_code == 404
    assert client_for(data.cast.board).get("/api/v1/stats/volunteers/?province=19").status_code == 404
    assert officer.get("/api/v1/stats/volunteers/?market=0").status_code == 400
