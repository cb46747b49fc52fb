"""Periods: the presets a board member taps, custom ranges, the previous
period and the buckets of a chart, all in Vietnam's calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from common.errors import Invalid
from stats.periods import Period, add_months, preset_period, resolve_period

# The project's autouse fixtures empty the cache, which lives in the test database.
pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = dt.date

MONDAY = D(2026, 11, 30)
SUNDAY = D(2026, 12, 6)
MONTH_END = D(2026, 1, 31)


def span(period: Period) -> tuple[str, str]:
    return period.start.isoformat(), period.end.isoformat()


@pytest.mark.parametrize(
    ("preset", "today", "expected"),
    [
        ("today", MONDAY, ("2026-11-30", "2026-11-30")),
        ("week", MONDAY, ("2026-11-30", "2026-11-30")),  # a Monday's week is that day alone so far
        ("week", SUNDAY, ("2026-11-30", "2026-12-06")),  # Sunday closes the ISO week begun on Monday
        ("month", MONDAY, ("2026-11-01", "2026-11-30")),  # the last day of November: the whole month
        ("month", SUNDAY, ("2026-12-01", "2026-12-06")),
        ("month", MONTH_END, ("2026-01-01", "2026-01-31")),
        ("7d", SUNDAY, ("2026-11-30", "2026-12-06")),
        ("30d", MONTH_END, ("2026-01-02", "2026-01-31")),
        ("90d", D(2026, 3, 31), ("2026-01-01", "2026-03-31")),
        ("week", D(2026, 1, 1), ("2025-12-29", "2026-01-01")),  # an ISO week across the new year
    ],
)
def test_presets_end_today_in_vietnam(preset: str, today: dt.date, expected: tuple[str, str]) -> None:
    assert span(preset_period(preset, today=today)) == expected


def test_at_2330_local_today_is_still_the_local_day(monkeypatch: pytest.MonkeyPatch) -> None:
    # 23:30 on Sunday 6 December in Vietnam is 16:30 UTC the same day; 00:30 on
    # Monday 7 December in Vietnam is still Sunday 17:30 in UTC.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 6, 23, 30, tzinfo=VN))
    assert span(resolve_period(preset="today")) == ("2026-12-06", "2026-12-06")
    assert span(resolve_period(preset="week")) == ("2026-11-30", "2026-12-06")
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 12, 7, 0, 30, tzinfo=VN))
    assert dt.datetime(2026, 12, 7, 0, 30, tzinfo=VN).astimezone(dt.UTC).date() == D(2026, 12, 6)
    assert span(resolve_period(preset="today")) == ("2026-12-07", "2026-12-07")
    assert span(resolve_period(preset="week")) == ("2026-12-07", "2026-12-07")


def test_nothing_asked_is_the_last_30_days() -> None:
    period = resolve_period(today=SUNDAY)
    assert span(period) == ("2026-11-07", "2026-12-06")
    assert (period.preset, period.granularity) == ("30d", "day")


def test_custom_ranges_are_inclusive_and_default_sensibly() -> None:
    period = resolve_period(start=D(2026, 11, 1), end=D(2026, 11, 30), today=SUNDAY)
    assert (span(period), period.days, period.preset) == (("2026-11-01", "2026-11-30"), 30, None)
    assert span(resolve_period(start=D(2026, 12, 1), today=SUNDAY)) == ("2026-12-01", "2026-12-06")
    assert span(resolve_period(end=D(2026, 6, 30), today=SUNDAY)) == ("2026-06-01", "2026-06-30")
    # A lone start in the future is a one-day period, not an error.
    assert span(resolve_period(start=D(2026, 12, 24), today=SUNDAY)) == ("2026-12-24", "2026-12-24")


def test_granularity_follows_the_length_unless_asked() -> None:
    assert resolve_period(start=D(2026, 1, 1), end=D(2026, 3, 31)).granularity == "day"
    assert resolve_period(start=D(2026, 1, 1), end=D(2026, 12, 31)).granularity == "week"
    assert resolve_period(start=D(2024, 1, 1), end=D(2026, 12, 31)).granularity == "month"
    assert resolve_period(preset="7d", granularity="month", today=SUNDAY).granularity == "month"


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"start": D(2026, 12, 6), "end": D(2026, 12, 5)}, "invalid_period", "from"),
        ({"start": D(2022, 1, 1), "end": D(2026, 1, 1)}, "period_too_long", "from"),
        ({"preset": "30d", "start": D(2026, 12, 1)}, "invalid_period", "preset"),
        ({"preset": "yesterday"}, "invalid_preset", "preset"),
        ({"granularity": "hour"}, "invalid_granularity", "granularity"),
        ({"start": D(1999, 12, 31), "end": D(2000, 1, 5)}, "invalid_date", "from"),
        ({"start": D(2026, 1, 1), "end": D(2101, 1, 1)}, "invalid_date", "to"),
    ],
)
def test_bad_periods_are_refused_with_a_code(kwargs: dict, code: str, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        resolve_period(today=SUNDAY, **kwargs)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_three_years_is_allowed() -> None:
    assert resolve_period(start=D(2023, 12, 8), end=D(2026, 12, 6)).days == 1095


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    assert span(preset_period("30d", today=SUNDAY).previous()) == ("2026-10-08", "2026-11-06")
    assert span(preset_period("today", today=MONDAY).previous()) == ("2026-11-29", "2026-11-29")
    # This month so far (6 days) is compared with the 6 days before it, not the whole of November.
    assert span(preset_period("month", today=SUNDAY).previous()) == ("2026-11-25", "2026-11-30")


def test_buckets_start_on_the_day_the_monday_or_the_first_clipped_to_the_period() -> None:
    days = Period(D(2026, 11, 28), D(2026, 12, 2), "day")
    assert [d.isoformat() for d in days.bucket_starts()] == [
        "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02",
    ]  # fmt: skip
    weeks = Period(D(2026, 11, 4), D(2026, 11, 30), "week")  # Wednesday 4th to Monday 30th
    assert [d.isoformat() for d in weeks.bucket_starts()] == [
        "2026-11-04", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30",
    ]  # fmt: skip
    assert weeks.bucket_of(D(2026, 11, 8)) == D(2026, 11, 4)  # Sunday 8th: the first, partial week
    assert weeks.bucket_of(D(2026, 11, 12)) == D(2026, 11, 9)
    months = Period(D(2025, 11, 15), D(2026, 2, 1), "month")
    assert [d.isoformat() for d in months.bucket_starts()] == ["2025-11-15", "2025-12-01", "2026-01-01", "2026-02-01"]
    assert months.bucket_of(D(2026, 1, 31)) == D(2026, 1, 1)


def test_add_months_crosses_years() -> None:
    assert add_months(D(2026, 12, 6), 1) == D(2027, 1, 1)
    assert add_months(D(2026, 1, 31), -11) == D(2025, 2, 1)
