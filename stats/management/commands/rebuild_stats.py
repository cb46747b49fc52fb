from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from market.models import Market
from stats.folding import rebuild


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--from: {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Recompute the statistics rollups (market days, vendor days, vendor activity) from the raw payments, "
        "for one market and/or from one local date on. Pending changes are folded first; the result is the "
        "same as folding them incrementally. Safe to run while payments arrive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--market", type=int, help="the id of the one market to rebuild (default: every market)")
        parser.add_argument(
            "--from", dest="from_date", type=_date, help="first local date to rebuild, YYYY-MM-DD (default: all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        market_id, from_date = options["market"], options["from_date"]
        if market_id is not None and not Market.objects.filter(pk=market_id).exists():
            raise CommandError(f"--market: no market with id {market_id}")
        done = rebuild(market_id=market_id, from_date=from_date)
        scope = f"market {market_id}" if market_id is not None else "every market"
        since = f"from {from_date.isoformat()}" if from_date is not None else "all days"
        self.stdout.write(
            f"Rebuilt the statistics of {scope}, {since}: {done.market_days} market-day rows, "
            f"{done.vendor_days} vendor-day rows, the activity of {done.activities} vendors "
            f"({done.folded} pending changes folded first)."
        )
