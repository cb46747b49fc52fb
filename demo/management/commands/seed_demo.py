from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.env import env_str
from demo.seed import seed_demo
from stats.folding import fold_pending


class Command(BaseCommand):
    help = (
        "Load demo markets, boards, volunteers, vendors and their payments (Thái Nguyên, incl. former Bắc Kạn "
        "pilots). Safe to run again: it creates only the demo objects that are missing (fixed market codes, "
        "usernames and merchant codes) and changes no existing row; demo payments are made only for the vendors "
        "it creates in that run, over the --payment-days before it, so a later run (even on a later day) adds none "
        "and vendors made by hand never get any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendors-per-market", type=int, default=30)
        parser.add_argument(
            "--payment-days",
            type=int,
            default=90,
            help="days of demo payments up to today for the vendors this run creates (0: none)",
        )
        parser.add_argument("--force", action="store_true", help="allow on a production (PostgreSQL) database")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError("refusing to load demo data into a production database without --force")
        # Demo-only password; override with DEMO_PASSWORD. Never used outside seed_demo.
        password = env_str("DEMO_PASSWORD", "cho40-demo")
        summary = seed_demo(
            password=password,
            vendors_per_market=options["vendors_per_market"],
            payment_days=options["payment_days"],
        )
        # Fold the demo payments into the statistics now, so the first dashboard
        # page after `make run` does not wait for it (a read would fold them too).
        fold_pending()
        self.stdout.write(
            f"Created {summary.markets} markets, {summary.vendors} vendors, {summary.payments} demo payments; "
            "nothing that existed was changed."
        )
        self.stdout.write(f"Demo logins (password {password!r}): {', '.join(summary.users[:6])}, …")
