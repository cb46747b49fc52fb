"""Reading ``VendorMonth`` masks (bit ``d - 1`` of ``days``: active on day ``d``
of the month): which bits of a row fall in a range of days, and how many bits
are set. On SQLite the bit count is a function registered on each connection
(``stats.apps``); PostgreSQL has ``bit_count`` (14+)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Func, IntegerField
from django.db.models.expressions import RawSQL


def month_masks(first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """(month, mask of the days of ``first`` … ``last`` in it) for each month the range touches."""
    out = []
    month = first.replace(day=1)
    while month <= last:
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        low = max(first, month).day
        high = min(last, following - dt.timedelta(days=1)).day
        out.append((month, ((1 << high) - 1) ^ ((1 << (low - 1)) - 1)))
        month = following
    return out


def bits_in(first: dt.date, last: dt.date) -> RawSQL:
    """The bits of a ``stats_vendormonth`` row's mask that fall in ``first`` … ``last`` (0 outside)."""
    masks = month_masks(first, last)
    whens = " ".join(['WHEN "stats_vendormonth"."month" = %s THEN ("stats_vendormonth"."days" & %s)'] * len(masks))
    params: list[Any] = []
    for month, mask in masks:
        params += [connection.ops.adapt_datefield_value(month), mask]
    return RawSQL(f"CASE {whens} ELSE 0 END", params, output_field=IntegerField())  # noqa: S611 (values are parameters)


def hit(first: dt.date, last: dt.date) -> RawSQL:
    """1 when a ``stats_vendormonth`` row has an active day in ``first`` … ``last``, else 0."""
    inner = bits_in(first, last)
    return RawSQL(  # noqa: S611 (values are parameters)
        f"CASE WHEN ({inner.sql}) <> 0 THEN 1 ELSE 0 END", inner.params, output_field=IntegerField()
    )


class BitCount(Func):
    """How many bits of a non-negative 31-bit integer are set."""

    function = "stats_bit_count"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="bit_count(CAST(%(expressions)s AS bit(31)))", **extra)


def bit_count(value: int | None) -> int | None:
    """The SQLite function behind ``BitCount``."""
    return None if value is None else int(value).bit_count()
