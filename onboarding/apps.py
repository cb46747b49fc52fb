from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    """The pages volunteers and boards onboard traders with: the volunteer's
    phone pages under /onboard/, the board's review queue and bulk import.
    Account and vendor rules stay in the apps they belong to (accounts,
    market, vendors); this app holds pages and the flows that join them."""

    name = "onboarding"
    label = "onboarding"
    verbose_name = _("Onboarding")
