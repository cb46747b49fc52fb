"""``/``: the public landing page, or each signed-in role's own page.

- superuser, province officer: the province dashboard (``dashboard:home``);
- market board member: their market's dashboard (``dashboard:market``), the
  first market they sit on the board of;
- volunteer: the onboarding pages (``onboard:start``: their market's new-trader form);
- vendor: their stall page (``stall:home``);
- anyone else signed in: a page saying their login holds no role yet.

The dashboard (``stats``) registers the ``dashboard`` namespace; until it is
installed the officer and board pages say it is coming too.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from market import roles
from market.selectors import first_board_market_id


def _dashboard_url(request: HttpRequest, role: str) -> str | None:
    try:
        if role == "board":
            market_id = first_board_market_id(user=request.user)
            return reverse("dashboard:market", args=[market_id]) if market_id else None
        return reverse("dashboard:home")
    except NoReverseMatch:  # the dashboard is not installed
        return None


def _coming_soon(request: HttpRequest, role: str | None) -> HttpResponse:
    coming = {
        "superuser": _("The province dashboard: coverage, active traders and payments of every market."),
        "officer": _("The province dashboard: coverage, active traders and payments of every market."),
        "board": _("Your market's dashboard: its traders, payments and who needs a follow-up call."),
        "volunteer": _("The onboarding page: registering traders, checking their QR and printing stall cards."),
    }
    return render(
        request,
        "home/coming_soon.html",
        {"role_label": roles.ROLE_LABELS[role] if role else "", "coming": coming.get(role or "")},
    )


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "home/landing.html")
    role = roles.main_role(request.user)
    if role in ("superuser", "officer", "board"):
        url = _dashboard_url(request, role)
        if url:
            return HttpResponseRedirect(url)
    if role == "volunteer":
        return HttpResponseRedirect(reverse("onboard:start"))
    if role == "vendor":
        return HttpResponseRedirect(reverse("stall:home"))
    return _coming_soon(request, role)
