"""The dashboard pages (``/dashboard/…``): server-rendered, no JavaScript.

Each page asks ``stats.scopes`` whether the signed-in user may see the scope
(outside it the page is a 404, exactly like one that does not exist) and
renders the dict of ``stats.selectors.scope_stats``, the one the API returns,
so a figure on a page always equals the API's and the export's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from common.errors import DomainError, NotFound
from market.models import Province
from payments.receipts.selectors import announcement_delays, silent_stalls, vietnam_today
from stats import dashboard, periods, scopes, selectors, services
from stats.forms import PeriodForm, TargetForm
from stats.periods import Period
from stats.scopes import Scope
from stats.selectors_volunteers import volunteer_stats


def _lang() -> str:
    return get_language() or "vi"


def _period(request: HttpRequest) -> tuple[Period, PeriodForm]:
    """The period of the query string, and the date form showing it. A bad
    period is shown on the form and the page falls back to the last 30 days."""
    form = PeriodForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            period = periods.resolve_period(
                preset=data["preset"] or None,
                start=data["from"],
                end=data["to"],
                granularity=data["granularity"] or None,
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return period, _shown(period)
    if form.is_bound and form.errors:
        return periods.resolve_period(), form
    period = periods.resolve_period()
    return period, _shown(period)


def _shown(period: Period) -> PeriodForm:
    return PeriodForm(initial={"from": period.start, "to": period.end, "granularity": period.granularity})


def _scope(user: Any, kind: str, key: str | int) -> Scope:
    try:
        return scopes.scope_for(user, kind, key)
    except NotFound:
        raise Http404 from None


def _page(request: HttpRequest, scope: Scope, period: Period, form: PeriodForm) -> dict[str, Any]:
    stats = selectors.scope_stats(scope, period)
    api_path = {
        "nation": lambda: reverse("stats-home"),
        "province": lambda: reverse("stats-province", kwargs={"code": scope.key}),
        "market": lambda: reverse("stats-market", kwargs={"market_id": int(scope.key)}),
    }[scope.kind]()
    context = dashboard.page_context(stats, api_path=api_path, lang=_lang())
    context["period_form"] = form
    volunteers_query = {"province": scope.key} if scope.kind == "province" else {}
    if scope.kind == "market":
        volunteers_query = {"market": scope.key}
    context["volunteers_url"] = f"{reverse('dashboard:volunteers')}?{urlencode(volunteers_query)}"
    return context


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/dashboard/``: the widest scope the user sees (``stats.scopes.home_scope``),
    rendered here: the nation for a superuser, with a link to each province;
    the province an officer follows; a board member's market. A volunteer is
    sent to their own leaderboard row; everyone else finds a 404."""
    try:
        scope = scopes.home_scope(request.user)
    except NotFound:
        try:
            scopes.volunteer_scope(request.user)
        except NotFound:
            raise Http404 from None
        return redirect("dashboard:volunteers")
    if scope.kind == "province":
        return province(request, scope.key)
    if scope.kind == "market":
        return market(request, int(scope.key))
    period, form = _period(request)
    context = _page(request, scope, period, form)
    context["provinces"] = list(
        Province.objects.annotate(markets_count=Count("markets"))
        .filter(markets_count__gt=0)
        .order_by("code")
        .values("code", "name", "markets_count")
    )
    return render(request, "stats/nation.html", context)


@login_required
@require_GET
def province(request: HttpRequest, code: str) -> HttpResponse:
    scope = _scope(request.user, "province", code)
    period, form = _period(request)
    return render(
        request, "stats/province.html", _with_target_form(request, _page(request, scope, period, form), scope)
    )


@login_required
@require_GET
def market(request: HttpRequest, market_id: int) -> HttpResponse:
    scope = _scope(request.user, "market", market_id)
    period, form = _period(request)
    context = _with_target_form(request, _page(request, scope, period, form), scope)
    # Today's stall speakers (payments/receipts): whose phone stayed silent while money arrived.
    context["speakers"] = {
        "silent": silent_stalls(market_id),
        "delays": announcement_delays(market_id, vietnam_today()),
        "grace_minutes": max(1, settings.STALL_SILENT_GRACE_SECONDS // 60),
    }
    if scope.province_code and _sees(request.user, "province", scope.province_code):
        province_name = Province.objects.get(pk=scope.province_code).name
        context["province_link"] = {
            "url": reverse("dashboard:province", kwargs={"code": scope.province_code}) + "?" + context["period_qs"],
            "name": province_name,
        }
    return render(request, "stats/market.html", context)


def _sees(user: Any, kind: str, key: str) -> bool:
    try:
        scopes.scope_for(user, kind, key)
    except NotFound:
        return False
    return True


def _with_target_form(
    request: HttpRequest, context: dict[str, Any], scope: Scope, form: TargetForm | None = None
) -> dict[str, Any]:
    """Whoever sees a province's or a market's page may set its target (the
    rule is ``stats.services.target_set``'s, which still decides on POST):
    the form, prefilled with the current target."""
    if form is None:
        current = context["stats"].get("target")
        initial = {}
        if current:
            initial = {
                "coverage": round(current["coverage"] * 100, 1),
                "active": round(current["active"] * 100, 1),
                "deadline": current["deadline"],
            }
        form = TargetForm(initial=initial)
    context["target_form"] = form
    context["target_action"] = reverse("dashboard:target", kwargs={"kind": scope.kind, "key": scope.key})
    return context


@login_required
@require_POST
def set_target(request: HttpRequest, kind: str, key: str) -> HttpResponse:
    """The target form's POST (province or market page): saved by the service,
    then back to the page; a refused form is shown again on the page (400)."""
    if kind not in ("province", "market"):
        raise Http404
    scope = _scope(request.user, kind, key)
    form = TargetForm(request.POST)
    if form.is_valid():
        coverage, active = form.shares()
        try:
            services.target_set(
                actor=request.user,  # type: ignore[arg-type]
                scope=scope,
                coverage=coverage,
                active=active,
                deadline=form.cleaned_data["deadline"],
            )
        except NotFound:
            raise Http404 from None
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Target saved."))
            return HttpResponseRedirect(_page_url(scope) + "#target")
    period, period_form = _period(request)
    context = _with_target_form(request, _page(request, scope, period, period_form), scope, form)
    return render(request, f"stats/{scope.kind}.html", context, status=400)


def _page_url(scope: Scope) -> str:
    if scope.kind == "province":
        return reverse("dashboard:province", kwargs={"code": scope.key})
    return reverse("dashboard:market", kwargs={"market_id": int(scope.key)})


@login_required
@require_GET
def volunteers(request: HttpRequest) -> HttpResponse:
    """The volunteer leaderboard of a scope (``?province=`` or ``?market=``,
    else the user's own); a volunteer sees their own row only."""
    period, form = _period(request)
    province_code, market_id = request.GET.get("province") or None, request.GET.get("market") or None
    try:
        scope, only_user = scopes.volunteer_scope(request.user, province=province_code, market=market_id)
    except NotFound:
        raise Http404 from None
    board = volunteer_stats(scope, period, only_user=only_user)
    lang = _lang()
    query = {key: value for key, value in (("province", province_code), ("market", market_id)) if value}
    home_link = None
    if scope.kind in ("province", "market"):
        home_link = {"url": _page_url(scope), "name": scope.name}
    return render(
        request,
        "stats/volunteers.html",
        {
            "board": board,
            "period_form": form,
            "period_words": dashboard.period_words(board["period"], lang=lang),
            "presets": dashboard.preset_links(board["period"], keep=query),
            "exports": dashboard.export_links(reverse("stats-volunteers"), board["period"], keep=query),
            "home_link": home_link,
            "scope_query": query,
        },
    )
