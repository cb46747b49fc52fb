"""The weekly digest: every Monday morning (Celery beat, ``stats.send_weekly_digest``)
each market board member and province officer with an e-mail address gets
last week's tiles for what they follow, in Vietnamese, plain text and HTML.

- The week is the ISO week before the one ``today`` falls in, Monday to
  Sunday in local (Asia/Ho_Chi_Minh) days, compared with the week before it.
- Scope: an officer gets one section per province they serve, a board member
  one per market they sit on (nothing of any other market); someone with both
  roles gets both in one e-mail.
- Each section: payments (count and value, succeeded), active vendors,
  coverage and activation at the week's end, each with the week before, and
  how many QR holders had no receipt in the 30 days to Sunday (the
  follow-up list of the market page).
- Sent once per person and week: a ``DigestSent`` row is inserted in the same
  transaction as the send, so a second run of the task (a retry, a second
  beat) finds it and sends nothing; a failed send rolls its row back and the
  next run tries again.

The figures are those of ``stats.selectors.scope_stats`` (docs/stats.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from market.models import Market, Province
from stats.formatting import format_int
from stats.models import DigestSent
from stats.periods import Period
from stats.scopes import Scope, market_scope, province_scope
from stats.selectors import scope_stats
from stats.selectors_vendors import follow_up

logger = logging.getLogger(__name__)

# The tiles of a section: (key of the stats dict, kind of number).
TILES = [
    ("payments_count", "count"),
    ("payments_value", "money"),
    ("active_vendors", "count"),
    ("coverage", "share"),
    ("activation", "share"),
]


def previous_week(today: dt.date) -> Period:
    """Monday to Sunday of the ISO week before the one ``today`` is in."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return Period(monday, monday + dt.timedelta(days=6), "day", None)


def recipients() -> QuerySet[User]:
    """Active users with an e-mail address who sit on a market board or serve a province."""
    roles = Q(board_roles__isnull=False) | Q(province_roles__isnull=False)
    return User.objects.filter(roles, is_active=True).exclude(email="").distinct().order_by("pk")


def scopes_of(user: User) -> list[Scope]:
    provinces = Province.objects.filter(officers__user=user).distinct().order_by("code")
    markets = Market.objects.filter(board_members__user=user).distinct().order_by("province_id", "name")
    return [province_scope(p) for p in provinces] + [market_scope(m) for m in markets]


@dataclass
class Section:
    scope: Scope
    tiles: list[dict[str, Any]]
    follow_up: int


def _format(kind: str, value: float | int | None) -> str:
    """Numbers the Vietnamese way (the digest's language): 1.234.500 ₫, 61,5 %."""
    if value is None:
        return "–"
    if kind == "share":
        return f"{value * 100:.1f} %".replace(".", ",")
    text = format_int(int(value), lang="vi")
    return f"{text} ₫" if kind == "money" else text


def _change(kind: str, now: float | int | None, before: float | int | None) -> str:
    if now is None or before is None:
        return ""
    if kind == "share":
        points = f"{(now - before) * 100:+.1f}".replace(".", ",")
        return _("%(points)s percentage points") % {"points": points}
    if not before:
        return ""
    return f"{(now - before) / before * 100:+.0f} %"


def section(scope: Scope, week: Period) -> Section:
    data = scope_stats(scope, week)
    labels = {
        "payments_count": _("Payments"),
        "payments_value": _("Value of payments"),
        "active_vendors": _("Active vendors"),
        "coverage": _("Coverage (vendors with a QR ÷ stalls)"),
        "activation": _("Activation (vendors ever paid ÷ vendors with a QR)"),
    }
    tiles = [
        {
            "label": labels[key],
            "value": _format(kind, data[key]),
            "before": _format(kind, data["previous"][key]),
            "change": _change(kind, data[key], data["previous"][key]),
        }
        for key, kind in TILES
    ]
    if scope.kind == "market":
        waiting = len(data.get("follow_up") or [])
    else:
        waiting = sum(len(follow_up(pk, week.end)) for pk in scope.markets().values_list("pk", flat=True))
    return Section(scope, tiles, waiting)


def build(user: User, week: Period) -> EmailMultiAlternatives | None:
    """The digest of ``user`` for ``week``, or None when they follow nothing."""
    scopes = scopes_of(user)
    if not scopes:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "week": week,
            "week_start": week.start.strftime("%d/%m/%Y"),
            "week_end": week.end.strftime("%d/%m/%Y"),
            "sections": [section(scope, week) for scope in scopes],
        }
        subject = _("Chợ 4.0 — week of %(start)s to %(end)s") % {
            "start": context["week_start"],
            "end": context["week_end"],
        }
        text = render_to_string("stats/digest/weekly.txt", context)
        html = render_to_string("stats/digest/weekly.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
    message.attach_alternative(html, "text/html")
    return message


def send_weekly_digest(*, today: dt.date | None = None) -> int:
    """E-mail last week's digest to everyone who has not had it yet; returns how many were sent."""
    week = previous_week(today or timezone.localdate())
    sent = 0
    for user in recipients():
        try:
            with transaction.atomic():
                _row, created = DigestSent.objects.get_or_create(user=user, week_start=week.start)
                if not created:
                    continue
                message = build(user, week)
                if message is None:
                    continue  # the row stays: nothing to send for that week
                message.send()
        except Exception:
            # The row is rolled back with the failure, so the next run retries this person.
            logger.exception("weekly digest to user %s for %s failed", user.pk, week.start)
            continue
        sent += 1
    return sent
