from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """Adoption statistics, read-only on top of the payments ledger: a change
    log the database writes with every payment, folded into rollups."""

    name = "stats"
    label = "stats"
    verbose_name = _("Statistics")
