from typing import Any

from django.apps import AppConfig
from django.db import connections
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


def _after_migrate(*, using: str, **kwargs: Any) -> None:
    from stats.triggers import ensure_installed

    ensure_installed(connections[using])
