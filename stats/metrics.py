"""The constants of the metric definitions (docs/stats.md) and the small
arithmetic every selector shares: windows, ratios, the average ticket."""

from __future__ import annotations

import datetime as dt
from typing import Final

from django.db.models import DateField, F
from django.db.models.expressions import Combinable
from django.db.models.functions import TruncMonth, TruncWeek

# "Active": at least one succeeded payment in the window (the mobile-money industry's 30-day rule).
ACTIVE_WINDOW_DAYS: Final = 30
SHORT_WINDOW_DAYS: Final = 7
# "Regular": at least 10 active days in the 90 days ending at the period's end.
REGULAR_WINDOW_DAYS: Final = 90
REGULAR_MIN_DAYS: Final = 10
# Per volunteer: onboarded traders who reached 2 active days within 30 days of onboarding.
ONBOARDING_WINDOW_DAYS: Final = 30
ONBOARDING_MIN_DAYS: Final = 2


def window(end: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days`` local days ending at ``end`` (inclusive)."""
    return end - dt.timedelta(days=days - 1), end


def ratio(part: int, whole: int) -> float | None:
    """``part ÷ whole`` to four decimals; ``None`` when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def average(value: int, count: int) -> int | None:
    """The average ticket in whole đồng, rounded half up; ``None`` without payments."""
    return (2 * value + count) // (2 * count) if count else None


def bucket_expression(granularity: str) -> Combinable:
    """The SQL for the start of a row's bucket (``local_date`` truncated)."""
    if granularity == "week":
        return TruncWeek("local_date", output_field=DateField())
    if granularity == "month":
        return TruncMonth("local_date", output_field=DateField())
    return F("local_date")
