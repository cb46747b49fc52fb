"""Reads of code entry: the offline confirmations in a user's scope, and their filters.

The scope follows the payments' (``payments.ledger.selectors``): a vendor's own,
the vendors of the markets one manages, everything for superusers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import django_filters
from django.db.models import Q, QuerySet

from common.filters import IdFilter
from market import roles
from market.selectors import markets_managed_by
from payments.models import OfflineConfirmation

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def offline_confirmation_list(*, user: User | AnonymousUser) -> QuerySet[OfflineConfirmation]:
    """Offline confirmations in ``user``'s scope, newest first: a vendor's own,
    and those of the vendors of the markets the user manages (board, officer);
    superusers all. Volunteers see none, as with payments."""
    if roles.is_anonymous(user):
        return OfflineConfirmation.objects.none()
    qs = OfflineConfirmation.objects.select_related("vendor").order_by("-received_at", "-id")
    if roles.is_superuser(user):
        return qs
    return qs.filter(Q(vendor__user=user) | Q(vendor__market_id__in=markets_managed_by(user=user).values("pk")))


class OfflineConfirmationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OfflineConfirmation.Status.choices)
    vendor = IdFilter(field_name="vendor_id")
    market = IdFilter(field_name="vendor__market_id")

    class Meta:
        model = OfflineConfirmation
        fields = ["status", "vendor", "market"]
