"""Who works in a market, as the people page lists them: board members and
volunteers with their phone number and where their invitation stands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Invitation
from chopay.identifiers import display_vn_mobile
from market.models import BoardMember, Market, VolunteerAssignment

ROLES = ("board", "volunteer")

_STATUS = {
    "active": _("Active"),
    "invited": _("Invited, not yet accepted"),
    "expired": _("Invitation expired"),
    "inactive": _("Deactivated"),
}


@dataclass(frozen=True)
class Person:
    user: Any
    name: str
    phone: str
    status: str  # a key of _STATUS
    invited_at: dt.datetime | None
    expires_at: dt.datetime | None

    @property
    def status_label(self) -> str:
        return str(_STATUS[self.status])

    @property
    def phone_display(self) -> str:
        return display_vn_mobile(self.phone) if self.phone else ""

    @property
    def may_resend(self) -> bool:
        return self.status != "active" and bool(self.phone)


def _status(user: Any, invitation: Invitation | None, now: dt.datetime) -> str:
    if user.is_active and user.has_usable_password():
        return "active"
    if invitation is not None and invitation.is_open(now=now):
        return "invited"
    if invitation is not None and invitation.used_at is None:
        return "expired"
    return "inactive"


def people_of_market(*, market: Market, role: str) -> list[Person]:
    """The board members (``role="board"``) or volunteers of ``market``, by name."""
    rows = BoardMember.objects if role == "board" else VolunteerAssignment.objects
    users = [
        row.user
        for row in rows.filter(market=market).select_related("user", "user__phone").order_by("user__first_name", "pk")
    ]
    latest: dict[int, Invitation] = {}
    for sent in Invitation.objects.filter(user__in=users).order_by("created_at"):
        latest[sent.user_id] = sent
    now = timezone.now()
    people = []
    for user in users:
        invitation = latest.get(user.pk)
        phone_row = getattr(user, "phone", None)
        people.append(
            Person(
                user=user,
                name=user.get_full_name() or user.username,
                phone=phone_row.phone if phone_row else (invitation.phone if invitation else ""),
                status=_status(user, invitation, now),
                invited_at=invitation.created_at if invitation else None,
                expires_at=invitation.expires_at if invitation else None,
            )
        )
    return people
