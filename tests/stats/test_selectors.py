"""Every figure of the statistics, on the hand-countable dataset of
conftest.py: the numbers a board member would count, each also checked
against a direct aggregate of the raw payments and vendors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from accounts.models import UserPhone
from market.models import LegacyProvince
from payments.models import Payment
from stats.figures import figures, figures_by
from stats.periods import Period
from stats.scopes import Scope, legacy_scope, market_scope, nation, province_scope
from stats.selectors import scope_stats
from stats.selectors_volunteers import volunteer_stats
from tests.factories import MarketFactory, PaymentFactory, VendorFactory
from vendors.models import Vendor

D = dt.date
NOV = Period(D(2026, 11, 1), D(2026, 11, 30), "day")


def succeeded(market_ids: list[int], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The direct aggregate: what ``GET /api/v1/payments/?status=succeeded`` lists."""
    return Payment.objects.filter(
        market_id__in=market_ids, status="succeeded", local_date__gte=start, local_date__lte=end
    ).aggregate(count=Count("id"), value=Sum("amount"))


def active_vendors(market_ids: list[int], start: dt.date, end: dt.date) -> int:
    return (
        Payment.objects.filter(
            market_id__in=market_ids, status="succeeded", vendor__isnull=False, local_date__gte=start,
            local_date__lte=end,
        )
        .values("vendor_id")
        .distinct()
        .count()
    )  # fmt: skip


def check_against_raw(stats: dict[str, Any], market_ids: list[int], period: Period) -> None:
    raw = succeeded(market_ids, period.start, period.end)
    assert (stats["payments_count"], stats["payments_value"]) == (raw["count"], raw["value"] or 0)
    assert stats["active_vendors"] == active_vendors(market_ids, period.start, period.end)
    assert stats["active_30d"] == active_vendors(market_ids, period.end - dt.timedelta(days=29), period.end)
    assert stats["active_7d"] == active_vendors(market_ids, period.end - dt.timedelta(days=6), period.end)
    vendors = Vendor.objects.filter(market_id__in=market_ids)
    assert stats["vendors_with_qr"] == vendors.filter(status="active").count()
    assert stats["vendors_registered"] == vendors.exclude(status="suspended").count()
    ever_paid = Payment.objects.filter(status="succeeded", local_date__lte=period.end).values("vendor_id")
    assert stats["vendors_activated"] == vendors.filter(status="active", id__in=ever_paid).count()
    if "channels" not in stats:  # the previous period: headline figures only
        return
    by_channel = dict(
        Payment.objects.filter(
            market_id__in=market_ids, status="succeeded", local_date__gte=period.start, local_date__lte=period.end
        )
        .values_list("channel")
        .annotate(n=Count("id"))
    )
    assert {row["channel"]: row["count"] for row in stats["channels"] if row["count"]} == by_channel
    for status, key in (("refunded", "refunds"), ("disputed", "disputes")):
        raw_status = Payment.objects.filter(
            market_id__in=market_ids, status=status, local_date__gte=period.start, local_date__lte=period.end
        ).aggregate(count=Count("id"), value=Sum("amount"))
        assert stats[key] == {"count": raw_status["count"], "value": raw_status["value"] or 0}


HEADLINE_MARKET = {
    "stalls": 10,
    "vendors_registered": 5,  # v1, v2, v3, v4 (pending), v6; not v5 (suspended)
    "vendors_with_qr": 4,  # v1, v2, v3, v6
    "coverage": 0.4,
    "vendors_activated": 3,  # v1, v2, v6 received something by 30 Nov; v3 never
    "activation": 0.75,
    "active_vendors": 2,  # v1 and v2 in November (the unmatched credit has no vendor)
    "active_7d": 1,  # 24–30 Nov: v1's 23:30 payment on the 30th
    "active_30d": 2,
    "active_share": 0.5,
    "regular_vendors": 1,  # v2: 8 days in September + 2 in November = 10 in the 90 days
    "payments_count": 6,  # v1 ×3, v2 ×2, the unmatched credit
    "payments_value": 330_000,
    "average_ticket": 55_000,
}


def test_market_headline_is_what_the_board_counts(data) -> None:
    stats = scope_stats(market_scope(data.market), NOV)
    assert {key: stats[key] for key in HEADLINE_MARKET} == HEADLINE_MARKET
    check_against_raw(stats, [data.market.pk], NOV)
    assert stats["scope"] == {"kind": "market", "key": str(data.market.pk), "name": "Chợ Đồng Quang"}
    assert stats["period"] == {"from": "2026-11-01", "to": "2026-11-30", "granularity": "day", "preset": None}


def test_market_previous_period_is_october(data) -> None:
    previous = scope_stats(market_scope(data.market), NOV)["previous"]
    # 2–31 October: v1's 40k on the 20th and v6's 60k on the 15th.
    assert previous["payments_count"] == 2
    assert previous["payments_value"] == 100_000
    assert previous["average_ticket"] == 50_000
    assert previous["active_vendors"] == 2
    assert previous["vendors_activated"] == 3
    assert previous["active_7d"] == 0
    assert previous["regular_vendors"] == 0  # v2's 8 September days are not 10
    assert previous["stalls"] == 10  # the roster keeps no history: the same as now
    check_against_raw(previous, [data.market.pk], NOV.previous())


def test_sizes_channels_refunds_and_disputes(data) -> None:
    stats = scope_stats(market_scope(data.market), NOV)
    sizes = {row["key"]: (row["count"], row["value"]) for row in stats["size_buckets"]}
    assert sizes == {
        "lt20k": (1, 15_000),
        "lt50k": (2, 70_000),  # 25k + the unmatched 45k
        "lt100k": (2, 125_000),  # 50k + 75k
        "lt500k": (1, 120_000),
        "ge500k": (0, 0),
    }
    assert [(row["min"], row["max"]) for row in stats["size_buckets"]] == [
        (0, 19_999), (20_000, 49_999), (50_000, 99_999), (100_000, 499_999), (500_000, None),
    ]  # fmt: skip
    channels = {row["channel"]: (row["count"], row["value"], row["share"]) for row in stats["channels"]}
    assert channels == {
        "static_qr": (3, 120_000, 0.5),
        "dynamic_qr": (1, 120_000, 0.1667),
        "phone_transfer": (1, 75_000, 0.1667),
        "code_entry": (1, 15_000, 0.1667),
    }
    assert {row["label"] for row in stats["channels"]} >= {"QR tĩnh"}  # Vietnamese by default
    assert stats["refunds"] == {"count": 1, "value": 200_000}
    assert stats["disputes"] == {"count": 1, "value": 600_000}


def test_series_by_day_counts_the_2330_payment_on_its_local_day(data) -> None:
    series = {row["start"]: row for row in scope_stats(market_scope(data.market), NOV)["series"]}
    assert len(series) == 30
    assert series["2026-11-02"] == {
        "start": "2026-11-02", "payments_count": 2, "payments_value": 170_000, "active_vendors": 1,
    }  # fmt: skip
    assert series["2026-11-03"]["payments_count"] == 0  # the failed one is not counted
    assert series["2026-11-12"] == {
        "start": "2026-11-12", "payments_count": 1, "payments_value": 45_000, "active_vendors": 0,
    }  # fmt: skip
    assert series["2026-11-30"]["payments_value"] == 15_000
    assert sum(row["payments_count"] for row in series.values()) == 6


def test_series_by_week_starts_on_mondays_and_counts_distinct_vendors(data) -> None:
    week = Period(NOV.start, NOV.end, "week")
    series = scope_stats(market_scope(data.market), week)["series"]
    assert [row["start"] for row in series] == [
        "2026-11-01", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30",
    ]  # fmt: skip
    by_start = {row["start"]: row for row in series}
    # 9–15 Nov: v2 on two days and the unmatched credit: 3 payments, 1 vendor.
    assert by_start["2026-11-09"] == {
        "start": "2026-11-09", "payments_count": 3, "payments_value": 145_000, "active_vendors": 1,
    }  # fmt: skip
    assert by_start["2026-11-30"]["active_vendors"] == 1
    month = scope_stats(market_scope(data.market), Period(D(2026, 9, 15), NOV.end, "month"))["series"]
    assert [(row["start"], row["payments_count"], row["active_vendors"]) for row in month] == [
        ("2026-09-15", 0, 0), ("2026-10-01", 2, 2), ("2026-11-01", 6, 2),
    ]  # fmt: skip


def test_cohorts_by_local_onboarding_month(data) -> None:
    cohorts = {row["month"]: row for row in scope_stats(market_scope(data.market), NOV)["cohorts"]}
    assert len(cohorts) == 12
    assert (min(cohorts), max(cohorts)) == ("2025-12", "2026-11")
    assert cohorts["2026-01"] == {"month": "2026-01", "vendors": 1, "active": [0] * 11}  # v5
    assert cohorts["2026-06"] == {"month": "2026-06", "vendors": 1, "active": [0, 0, 0, 0, 1, 1]}  # v1
    assert cohorts["2026-09"] == {"month": "2026-09", "vendors": 1, "active": [1, 0, 1]}  # v2
    # v6 was onboarded at 00:30 on 1 October in Vietnam (30 September in UTC).
    assert cohorts["2026-10"] == {"month": "2026-10", "vendors": 1, "active": [1, 0]}
    assert cohorts["2026-11"] == {"month": "2026-11", "vendors": 2, "active": [0]}  # v3, v4
    assert cohorts["2026-08"]["vendors"] == 0


def test_a_cohort_month_counts_activity_only_up_to_the_end_of_the_period(data) -> None:
    def september(end: dt.date) -> list[int]:
        cohorts = scope_stats(market_scope(data.market), Period(D(2026, 11, 1), end, "day"))["cohorts"]
        return next(row["active"] for row in cohorts if row["month"] == "2026-09")

    assert september(D(2026, 11, 9)) == [1, 0, 0]  # v2's November receipts are on the 10th and 11th
    assert september(D(2026, 11, 10)) == [1, 0, 1]


def test_follow_up_lists_qr_holders_without_a_receipt_in_30_days(data) -> None:
    follow_up = scope_stats(market_scope(data.market), NOV)["follow_up"]
    assert [(row["stall"], row["name"], row["last_receipt"]) for row in follow_up] == [
        ("A-03", "Vũ Thị Mai", "2026-10-15"),
        ("C-07", "Đỗ Văn Nam", None),
    ]
    nam = follow_up[1]
    assert nam["phone"] == "0912 000 333"
    assert nam["onboarded_on"] == "2026-11-03"
    assert nam["onboarded_by"] == {"id": data.helper.pk, "name": "Tình Lê Văn", "phone": "0987 654 321"}
    assert follow_up[0]["onboarded_by"]["name"] == "volunteer"
    assert follow_up[0]["onboarded_by"]["phone"] is None
    # At the end of October v6 had been paid within 30 days; v1 had too, v2 not (September).
    october = scope_stats(market_scope(data.market), Period(D(2026, 10, 1), D(2026, 10, 31)))["follow_up"]
    assert {row["name"] for row in october} == {"Phạm Thị Lan", "Đỗ Văn Nam"}
    assert [row["last_receipt"] for row in october if row["name"] == "Phạm Thị Lan"] == ["2026-09-12"]


def test_follow_up_gives_the_phone_an_invitation_recorded_for_the_volunteer(data) -> None:
    """A volunteer invited by SMS has their phone on record (accounts.UserPhone)
    whatever their username: the board can call them too."""
    UserPhone.objects.create(user=data.cast.volunteer, phone="+84977123456")
    follow_up = scope_stats(market_scope(data.market), NOV)["follow_up"]
    assert follow_up[0]["onboarded_by"] == {"id": data.cast.volunteer.pk, "name": "volunteer", "phone": "0977 123 456"}


def test_province_ranks_its_markets_and_groups_the_former_bac_kan(data) -> None:
    stats = scope_stats(province_scope(data.market.province), NOV)
    market_ids = [data.market.pk, data.cast.other_market.pk]
    check_against_raw(stats, market_ids, NOV)
    assert (stats["stalls"], stats["vendors_with_qr"], stats["coverage"]) == (15, 5, 0.3333)
    assert (stats["payments_count"], stats["payments_value"], stats["average_ticket"]) == (7, 830_000, 118_571)
    assert (stats["active_30d"], stats["active_share"]) == (3, 0.6)
    ranked = [(row["rank"], row["name"], row["active_share"]) for row in stats["markets"]]
    assert ranked == [(1, "Chợ Thái", 1.0), (2, "Chợ Đồng Quang", 0.5)]
    mine = stats["markets"][1]
    assert {key: mine[key] for key in HEADLINE_MARKET} == HEADLINE_MARKET
    groups = {row["code"]: row for row in stats["groups"]}
    assert groups["06"]["name"] == "Tỉnh Bắc Kạn"
    assert (groups["06"]["markets"], groups["06"]["payments_value"], groups["06"]["stalls"]) == (1, 500_000, 5)
    assert (groups[None]["markets"], groups[None]["payments_value"]) == (1, 330_000)
    assert len(groups["06"]["series"]) == 30
    assert "follow_up" not in stats


def test_ward_and_nation(data) -> None:
    ward = scope_stats(
        Scope("ward", data.market.ward_id, data.market.ward.name, province_code="19"), NOV
    )  # both Thái Nguyên markets share the ward
    assert [row["name"] for row in ward["markets"]] == ["Chợ Thái", "Chợ Đồng Quang"]
    assert "groups" not in ward
    everything = scope_stats(nation(), NOV)
    market_ids = [data.market.pk, data.cast.other_market.pk, data.cast.far_market.pk]
    check_against_raw(everything, market_ids, NOV)
    # The 70k credit no market could be found for is in no scope, the nation's included.
    assert everything["payments_value"] == 840_000
    assert everything["stalls"] == 19
    assert everything["scope"]["name"] == "Việt Nam"
    assert everything["target"] is None
    assert len(everything["markets"]) == 3
    provinces = [(row["rank"], row["code"], row["markets"], row["stalls"], row["payments_value"], row["active_share"])
                 for row in everything["provinces"]]  # fmt: skip
    # Thái Nguyên: 3 active of 5 QR holders = 0.6; Hà Nội: 1 of 1.
    assert provinces == [(1, "01", 1, 4, 10_000, 1.0), (2, "19", 2, 15, 830_000, 0.6)]
    province = scope_stats(province_scope(data.market.province), NOV)
    assert {key: everything["provinces"][1][key] for key in HEADLINE_MARKET} == {
        key: province[key] for key in HEADLINE_MARKET
    }


@pytest.mark.parametrize("kind", ["province", "ward", "legacy", "market"])
def test_figures_summed_market_by_market_equal_the_figures_counted_per_group(data, kind) -> None:
    province = data.market.province
    scope = {
        "province": province_scope(province),
        "ward": Scope("ward", data.market.ward_id, data.market.ward.name, province_code="19"),
        "legacy": legacy_scope("19", LegacyProvince.objects.get(code="06")),
        "market": market_scope(data.market),
    }[kind]
    groups = (None, "market", "legacy", "province")

    assert figures_by(scope, NOV, groups) == {
        group: figures(scope, NOV, group=group, previous=group is None) for group in groups
    }


def test_an_empty_scope_divides_by_nothing(db) -> None:
    stats = scope_stats(nation(), NOV)
    assert (stats["coverage"], stats["activation"], stats["average_ticket"]) == (None, None, None)
    assert all(row["share"] is None for row in stats["channels"])
    assert stats["markets"] == []


@pytest.mark.parametrize("refund_later", [False, True])
def test_a_refund_or_a_reassignment_moves_the_figures(data, refund_later: bool) -> None:
    payment = Payment.objects.get(vendor=data.v2, amount=75_000)
    if refund_later:
        payment.transition("refunded")
        expected = (5, 255_000, {"count": 2, "value": 275_000})
    else:
        Payment.objects.filter(pk=payment.pk).update(vendor=data.v3)
        expected = (6, 330_000, {"count": 1, "value": 200_000})
    stats = scope_stats(market_scope(data.market), NOV)
    assert (stats["payments_count"], stats["payments_value"], stats["refunds"]) == expected
    check_against_raw(stats, [data.market.pk], NOV)


def test_volunteers_onboarded_and_reaching_two_active_days(data, monkeypatch) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 6, 5, tzinfo=dt.UTC))
    autumn = Period(D(2026, 9, 1), D(2026, 11, 30))
    stats = volunteer_stats(market_scope(data.market), autumn)
    rows = {row["volunteer"]["name"]: row for row in stats["volunteers"]}
    # Tình: v2 (1 Sep, 8 active days in September: reached), v3 (3 Nov, nothing:
    # its 30 days are over), v4 (20 Nov, nothing yet: still within its 30 days).
    assert rows["Tình Lê Văn"] == {
        "volunteer": {"id": data.helper.pk, "name": "Tình Lê Văn", "phone": "0987 654 321"},
        "onboarded": 3, "reached": 1, "in_window": 1, "reached_share": 0.3333,
    }  # fmt: skip
    # cast.volunteer: v6 (1 Oct), one active day only.
    assert (rows["volunteer"]["onboarded"], rows["volunteer"]["reached"]) == (1, 0)
    assert list(rows) == ["Tình Lê Văn", "volunteer"]
    assert (stats["onboarded"], stats["reached"]) == (4, 1)
    own = volunteer_stats(nation(), autumn, only_user=data.cast.volunteer.pk)
    assert [row["volunteer"]["name"] for row in own["volunteers"]] == ["volunteer"]


def test_the_number_of_queries_does_not_grow_with_the_markets(data, django_assert_max_num_queries) -> None:
    province = province_scope(data.market.province)
    scope_stats(province, NOV)  # folds what the dataset wrote
    with CaptureQueriesContext(connection) as before:
        scope_stats(province, NOV)
    for index in range(4):
        market = MarketFactory(ward=data.market.ward, legacy_province_id="19" if index % 2 else None)
        PaymentFactory(
            vendor=VendorFactory(market=market),
            amount=20_000,
            occurred_at=data.v1.onboarded_at + dt.timedelta(days=150),
        )
    scope_stats(province, NOV)
    with django_assert_max_num_queries(len(before.captured_queries)):
        stats = scope_stats(province, NOV)
    assert len(stats["markets"]) == 6
    assert len(stats["groups"]) == 3


def test_a_former_province_as_a_scope_of_its_own(data) -> None:
    groups = {row["code"]: row for row in scope_stats(province_scope(data.market.province), NOV)["groups"]}
    for code in ("06", None):
        unit = LegacyProvince.objects.get(pk=code) if code else None
        alone = scope_stats(legacy_scope("19", unit), NOV)
        assert {key: alone[key] for key in HEADLINE_MARKET} == {key: groups[code][key] for key in HEADLINE_MARKET}
        assert alone["series"] == groups[code]["series"]
    assert scope_stats(legacy_scope("19", None), NOV)["scope"]["name"] == "Chưa ghi tỉnh cũ"
