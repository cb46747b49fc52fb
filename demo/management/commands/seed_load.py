from __future__ import annotations

import random
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from demo.load import (
    LoadError,
    LoadSummary,
    copy_payments,
    create_markets_and_vendors,
    delete_load_data,
    holds_real_payments,
    load_market_ids,
    payment_lines,
    require_postgres,
)


class Command(BaseCommand):
    help = (
        "Fill PostgreSQL with load data for benchmarks: --markets markets (code LOAD-…) over real wards of "
        "several provinces (some in the former Bắc Kạn), about --vendors vendors each, and --payments payments "
        "over the last --days local days, written with COPY; then rebuilds the statistics rollups from the "
        "payments (rebuild_stats). Refuses to run when load markets exist, unless --reset, which first deletes them with their "
        "vendors and payments (so the figures never mix two runs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payments", type=int, required=True)
        parser.add_argument("--markets", type=int, default=50)
        parser.add_argument("--vendors", type=int, default=300, help="average vendors per market")
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="delete the existing load markets first")
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even though other markets have payments (a real ledger: the load markets would join its "
            "national and provincial figures)",
        )
        parser.add_argument(
            "--with-triggers",
            action="store_true",
            help="keep the change-log trigger on during COPY (the rows are then folded by the fold task or the "
            "next read) instead of skipping it and rebuilding the rollups, which is faster (docs/stats.md)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["payments"] < 0 or options["markets"] < 1 or options["days"] < 1 or options["vendors"] < 1:
            raise CommandError("--payments must be ≥ 0 and --markets, --vendors, --days ≥ 1")
        try:
            require_postgres()
            summary, timings = self._load(options)
        except LoadError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{summary.markets} markets, {summary.vendors} vendors ({summary.vendors_with_qr} with a QR, "
            f"{summary.paying_vendors} paid), {summary.payments} payments; "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        )

    def _load(self, options: dict[str, Any]) -> tuple[LoadSummary, dict[str, float]]:
        rng = random.Random(options["seed"])
        timings: dict[str, float] = {}
        old_ids: list[int] = []
        started = time.monotonic()
        if not options["force"] and holds_real_payments():
            raise LoadError(
                "this database holds payments of markets that are not load data: load markets would join its "
                "national and provincial figures; use a scratch database, or --force"
            )
        if load_market_ids():
            if not options["reset"]:
                raise LoadError(
                    "load markets (code LOAD-…) already exist: a second run would mix two loads in the same "
                    "figures; run with --reset to delete them, their vendors and payments first"
                )
            deleted, old_ids = delete_load_data()
            timings["reset"] = time.monotonic() - started
            self.stdout.write(f"deleted {len(old_ids)} load markets and {deleted} payments")
        summary = LoadSummary()
        mark = time.monotonic()
        vendors = create_markets_and_vendors(
            rng=rng,
            markets=options["markets"],
            vendors_per_market=options["vendors"],
            days=options["days"],
            summary=summary,
        )
        timings["markets and vendors"] = time.monotonic() - mark
        if not vendors and options["payments"]:
            raise LoadError("no vendor to pay: raise --vendors")
        mark = time.monotonic()
        skip = not options["with_triggers"]
        if options["payments"]:
            run = f"{options['seed']}{int(time.time()) % 100_000:05d}"
            lines = payment_lines(rng=rng, vendors=vendors, count=options["payments"], run=run)
            summary.payments = copy_payments(lines, skip_triggers=skip)
        with connection.cursor() as cursor:
            # Fresh planner statistics: before autovacuum gets to them, the planner takes the new
            # tables for nearly empty and picks nested loops that take seconds.
            for table in ("market_market", "vendors_vendor", "payments_payment"):
                cursor.execute(f"ANALYZE {table}")
        timings["COPY"] = time.monotonic() - mark
        if skip:
            mark = time.monotonic()
            # One pass over the payments for every market: per market would read the table once
            # each, since a market's payments are spread over it in time order.
            call_command("rebuild_stats", verbosity=0)
            with connection.cursor() as cursor:
                for table in ("stats_marketday", "stats_vendorday", "stats_vendormonth", "stats_vendoractivity"):
                    # As for the payments above (0.6 s reads become 0.03 s); VACUUM sets the visibility
                    # map the reads' index-only scans need.
                    vacuum = "" if connection.in_atomic_block else "VACUUM "  # not inside a transaction (tests)
                    cursor.execute(f"{vacuum}ANALYZE {table}")
            timings["rebuild_stats"] = time.monotonic() - mark
        return summary, timings
