"""The people of a market (``/onboard/people/…``): invite and remove board
members (the province's officers) and volunteers (the market's board, the
officers). Server-rendered, no JavaScript; the rules are the services'
(``market.invitations``) and ``market.roles``'; a market outside one's scope
is a 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from chopay.identifiers import display_vn_mobile
from common.errors import DomainError, NotFound
from market import roles
from market.invitations import board_member_remove, invite_board_member, invite_volunteer, volunteer_remove
from market.models import Market
from market.selectors import markets_managed_by
from onboarding.people.forms import InviteForm
from onboarding.people.selectors import people_of_market


def _market_for(request: HttpRequest, market_id: int) -> Market:
    market = get_object_or_404(Market, pk=market_id)
    if not roles.invites_volunteers(request.user, market):
        raise Http404
    return market


def _page(request: HttpRequest, market: Market, forms: dict[str, InviteForm], status: int = 200) -> HttpResponse:
    sections = []
    if roles.invites_board_members(request.user, market):
        sections.append(
            {
                "role": "board",
                "title": _("Board members"),
                "invite_title": _("Invite a board member"),
                "people": people_of_market(market=market, role="board"),
                "form": forms.get("board") or InviteForm(prefix="board"),
            }
        )
    sections.append(
        {
            "role": "volunteer",
            "title": _("Volunteers"),
            "invite_title": _("Invite a volunteer"),
            "people": people_of_market(market=market, role="volunteer"),
            "form": forms.get("volunteer") or InviteForm(prefix="volunteer"),
        }
    )
    return render(request, "onboarding/people/market.html", {"market": market, "sections": sections}, status=status)


@login_required
def market_list(request: HttpRequest) -> HttpResponse:
    markets = list(markets_managed_by(user=request.user).select_related("province").order_by("name")[:500])
    if not markets:
        raise Http404
    if len(markets) == 1:
        return HttpResponseRedirect(reverse("onboard:people_market", args=[markets[0].pk]))
    return render(request, "onboarding/people/markets.html", {"markets": markets})


@login_required
def market_people(request: HttpRequest, market_id: int) -> HttpResponse:
    return _page(request, _market_for(request, market_id), {})


@login_required
@require_POST
def invite(request: HttpRequest, market_id: int) -> HttpResponse:
    market = _market_for(request, market_id)
    role = request.POST.get("role", "volunteer")
    if role not in ("board", "volunteer") or (
        role == "board" and not roles.invites_board_members(request.user, market)
    ):
        raise Http404
    form = InviteForm(request.POST, prefix=role)
    if form.is_valid():
        service = invite_board_member if role == "board" else invite_volunteer
        try:
            invitation = service(
                actor=request.user,  # type: ignore[arg-type]
                market=market,
                full_name=form.cleaned_data["full_name"],
                phone=form.cleaned_data["phone"],
            )
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Invitation sent by SMS to %(name)s (%(phone)s).")
                % {
                    "name": invitation.user.get_full_name() or invitation.user.username,
                    "phone": display_vn_mobile(invitation.phone),
                },
            )
            return HttpResponseRedirect(reverse("onboard:people_market", args=[market.pk]))
    return _page(request, market, {role: form}, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, market_id: int, role: str, user_id: int) -> HttpResponse:
    """GET: ask to confirm; POST: take the role away (and deactivate a person left without one)."""
    market = _market_for(request, market_id)
    allowed = roles.invites_board_members if role == "board" else roles.invites_volunteers
    if role not in ("board", "volunteer") or not allowed(request.user, market):
        raise Http404
    person: Any = get_object_or_404(get_user_model(), pk=user_id)
    people = {p.user.pk: p for p in people_of_market(market=market, role=role)}
    if user_id not in people:
        raise Http404
    if request.method == "POST":
        service = board_member_remove if role == "board" else volunteer_remove
        try:
            deactivated = service(actor=request.user, market=market, user=person)  # type: ignore[arg-type]
        except DomainError:
            raise Http404 from None
        name = people[user_id].name
        if deactivated:
            messages.success(request, _("%(name)s was removed and their account deactivated.") % {"name": name})
        else:
            messages.success(
                request,
                _("%(name)s was removed from this market; they keep their other roles.") % {"name": name},
            )
        return HttpResponseRedirect(reverse("onboard:people_market", args=[market.pk]))
    return render(
        request,
        "onboarding/people/remove.html",
        {"market": market, "person": people[user_id], "role": role},
    )
