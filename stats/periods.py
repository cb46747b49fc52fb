"""Reporting periods: the one-tap presets, custom ranges, the previous period
and the buckets of a series.

Every date here is a calendar day in Vietnam (``settings.TIME_ZONE``,
Asia/Ho_Chi_Minh): "today" is ``timezone.localdate()``, so at 23:30 local
time (16:30 UTC) it is still that local day, and a payment at 23:30 local
belongs to it (``Payment.local_date``). Ranges are inclusive at both ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Invalid

PRESETS: Final = ("today", "week", "month", "7d", "30d", "90d")
GRANULARITIES: Final = ("day", "week", "month")
DEFAULT_PRESET: Final = "30d"
# A custom range spans at most about three years (a pilot's whole history).
MAX_DAYS: Final = 3 * 366
# Dates outside these bounds are typing errors, not history (and keep date arithmetic in range).
EARLIEST: Final = dt.date(2000, 1, 1)
LATEST: Final = dt.date(2100, 12, 31)

_ROLLING_DAYS: Final = {"7d": 7, "30d": 30, "90d": 90}


@dataclass(frozen=True)
class Period:
    """Local days ``start`` … ``end`` (inclusive), shown by ``granularity``."""

    start: dt.date
    end: dt.date
    granularity: str = "day"
    preset: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, self.granularity, None)

    def bucket_of(self, day: dt.date) -> dt.date:
        """The start of the bucket ``day`` falls in, clipped to the period's start
        (a week or month bucket that began before the period starts with it)."""
        return max(truncate(day, self.granularity), self.start)

    def bucket_starts(self) -> list[dt.date]:
        """The start of every bucket of the period, oldest first."""
        return list(_bucket_starts(self))

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "granularity": self.granularity,
            "preset": self.preset,
        }


def local_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The moments ``[start, stop)`` covering the local days ``first`` to ``last``
    (inclusive) in Asia/Ho_Chi_Minh: what a filter on a timestamp needs."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def truncate(day: dt.date, granularity: str) -> dt.date:
    """The first day of the day, ISO week (Monday) or month holding ``day``."""
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after the one holding ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _bucket_starts(period: Period) -> Iterator[dt.date]:
    current = truncate(period.start, period.granularity)
    while current <= period.end:
        yield max(current, period.start)
        if period.granularity == "week":
            current += dt.timedelta(days=7)
        elif period.granularity == "month":
            current = add_months(current, 1)
        else:
            current += dt.timedelta(days=1)


def default_granularity(days: int) -> str:
    """Days up to about three months, weeks up to about a year, months beyond."""
    if days <= 92:
        return "day"
    if days <= 366:
        return "week"
    return "month"


def preset_period(preset: str, *, today: dt.date | None = None, granularity: str | None = None) -> Period:
    """The preset ending today (local): ``today``, ``week`` (since Monday),
    ``month`` (since the 1st), or the last 7, 30 or 90 days including today."""
    today = today or timezone.localdate()
    if preset == "today":
        start = today
    elif preset == "week":
        start = truncate(today, "week")
    elif preset == "month":
        start = truncate(today, "month")
    elif preset in _ROLLING_DAYS:
        start = today - dt.timedelta(days=_ROLLING_DAYS[preset] - 1)
    else:
        raise Invalid(
            "invalid_preset",
            _("Unknown period preset; use one of: %(presets)s.") % {"presets": ", ".join(PRESETS)},
            field="preset",
        )
    return Period(start, today, granularity or default_granularity((today - start).days + 1), preset)


def resolve_period(
    *,
    preset: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    granularity: str | None = None,
    today: dt.date | None = None,
) -> Period:
    """The period asked for: a preset, or ``from``/``to`` (a lone ``from`` runs
    to today, a lone ``to`` covers the 30 days ending on it), or the last 30
    days when nothing is given. Raises ``Invalid`` on a bad combination."""
    if granularity is not None and granularity not in GRANULARITIES:
        raise Invalid(
            "invalid_granularity",
            _("Unknown granularity; use one of: %(values)s.") % {"values": ", ".join(GRANULARITIES)},
            field="granularity",
        )
    if preset is not None:
        if start is not None or end is not None:
            raise Invalid("invalid_period", _("Give either a preset or from/to dates, not both."), field="preset")
        return preset_period(preset, today=today, granularity=granularity)
    if start is None and end is None:
        return preset_period(DEFAULT_PRESET, today=today, granularity=granularity)
    today = today or timezone.localdate()
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        start = end - dt.timedelta(days=_ROLLING_DAYS[DEFAULT_PRESET] - 1)
    for name, value in (("from", start), ("to", end)):
        if not EARLIEST <= value <= LATEST:
            raise Invalid(
                "invalid_date",
                _("Dates must lie between %(first)s and %(last)s.")
                % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()},
                field=name,
            )
    if start > end:
        raise Invalid("invalid_period", _("The start date is after the end date."), field="from")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise Invalid("period_too_long", _("A period covers at most %(days)d days.") % {"days": MAX_DAYS}, field="from")
    return Period(start, end, granularity or default_granularity(days), None)
