"""PUT …/target/: who may set a province's or a market's target, what is
refused, and the progress every view then shows against it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from stats.models import Target
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

GOAL = {"coverage": "1", "active": "0.6", "deadline": "2027-06-30"}


def province_url(code: str = "19") -> str:
    return f"/api/v1/stats/provinces/{code}/target/"


def market_url(market) -> str:
    return f"/api/v1/stats/markets/{market.pk}/target/"


PROVINCE_SETTERS = {"admin", "officer"}
MARKET_SETTERS = {"admin", "officer", "board"}
CAST = ["admin", "officer", "far_officer", "board", "other_board", "volunteer", "vendor_user", "outsider"]


@pytest.mark.parametrize("who", CAST)
def test_who_may_set_a_province_target(data, who: str) -> None:
    response = client_for(getattr(data.cast, who)).put(province_url(), GOAL, format="json")
    if who in PROVINCE_SETTERS:
        assert response.status_code == 200, response.content
        target = Target.objects.get(province_id="19")
        assert target.set_by == getattr(data.cast, who)
    else:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert not Target.objects.exists()


@pytest.mark.parametrize("who", CAST)
def test_who_may_set_a_market_target(data, who: str) -> None:
    response = client_for(getattr(data.cast, who)).put(market_url(data.market), GOAL, format="json")
    assert response.status_code == (200 if who in MARKET_SETTERS else 404), response.content
    assert Target.objects.filter(market=data.market).exists() is (who in MARKET_SETTERS)


def test_the_target_and_its_progress_show_in_the_statistics(data, monkeypatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC))
    board = client_for(data.cast.board)
    response = board.put(market_url(data.market), {**GOAL, "coverage": "0.8"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["scope"]["kind"] == "market"
    assert (body["target"]["coverage"], body["target"]["active"], body["target"]["deadline"]) == (
        0.8, 0.6, "2027-06-30",
    )  # fmt: skip
    assert body["target"]["set_by"] == "board"
    assert body["target"]["set_at"].startswith("2026-12-01T")
    # Today (1 Dec): coverage 4 QRs / 10 stalls = 0.4 → half of 0.8; active over
    # 2–31 Nov v1, v2 of 4 QR holders = 0.5 → 0.8333 of 0.6.
    assert (body["target"]["coverage_progress"], body["target"]["active_progress"]) == (0.5, 0.8333)
    stats = board.get(f"/api/v1/stats/markets/{data.market.pk}/?from=2026-11-01&to=2026-11-30").json()
    assert stats["target"]["coverage_progress"] == 0.5
    assert stats["target"]["active_progress"] == 0.8333
    # A second PUT replaces the target; the officer's name is now on it.
    client_for(data.cast.officer).put(market_url(data.market), GOAL, format="json")
    assert Target.objects.filter(market=data.market).count() == 1
    target = Target.objects.get(market=data.market)
    assert (target.coverage, target.set_by) == (1, data.cast.officer)


def test_a_province_target_shows_on_the_province_only(data) -> None:
    client_for(data.cast.officer).put(province_url(), GOAL, format="json")
    officer = client_for(data.cast.officer)
    assert officer.get("/api/v1/stats/provinces/19/").json()["target"]["coverage"] == 1.0
    assert officer.get(f"/api/v1/stats/markets/{data.market.pk}/").json()["target"] is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({**GOAL, "coverage": "1.5"}, "max_value", "coverage"),
        ({**GOAL, "active": "-0.1"}, "min_value", "active"),
        ({**GOAL, "active": "NaN"}, "invalid", "active"),
        ({**GOAL, "active": "0.123456"}, "max_digits", "active"),
        ({**GOAL, "deadline": "2026-13-01"}, "invalid", "deadline"),
        ({"coverage": "1", "active": "0.6"}, "required", "deadline"),
        ({**GOAL, "coverage": "0", "active": "0"}, "empty_target", "coverage"),
        ({**GOAL, "deadline": "2020-01-01"}, "deadline_past", "deadline"),
    ],
)
def test_bad_targets_are_400_with_the_field(data, body: dict, code: str, field: str) -> None:
    response = client_for(data.cast.officer).put(province_url(), body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field or field in error.get("fields", {})
    assert not Target.objects.exists()


def test_an_unknown_province_is_404(data) -> None:
    assert client_for(data.cast.admin).put(province_url("99"), GOAL, format="json").status_code == 404
    assert (
        client_for(data.cast.admin).put("/api/v1/stats/markets/999999/target/", GOAL, format="json").status_code == 404
    )
