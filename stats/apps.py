from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """Adoption statistics, read-only on top of the payments ledger: a change
    log the database writes with every payment, folded into rollups."""

    name = "stats"
    label = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="stats.triggers.ensure_installed")
        connection_created.connect(_sqlite_functions, dispatch_uid="stats.bits.sqlite_functions")


def _sqlite_functions(*, connection: Any, **kwargs: Any) -> None:
    # PostgreSQL has bit_count; SQLite gets ours (stats.bits.BitCount).
    if connection.vendor == "sqlite":
        from stats.bits import bit_count

        connection.connection.create_function("stats_bit_count", 1, bit_count, deterministic=True)


def _after_migrate(*, using: str, **kwargs: Any) -> None:
    from stats.triggers import ensure_installed

    ensure_installed(connections[using])
