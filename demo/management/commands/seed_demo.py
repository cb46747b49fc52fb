from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from common.env import env_str
from demo.seed import seed_demo


class Command(BaseCommand):
    help = "Load demo markets, boards, volunteers and vendors (Thái Nguyên, incl. former Bắc Kạn pilots). Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendors-per-market", type=int, default=30)
        parser.add_argument("--payment-days", type=int, default=14, help="days of demo payments up to today (0: none)")
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
        self.stdout.write(f"{summary.markets} markets, {summary.vendors} vendors, {summary.payments} demo payments.")
        self.stdout.write(f"Demo logins (password {password!r}): {', '.join(summary.users[:6])}, …")
