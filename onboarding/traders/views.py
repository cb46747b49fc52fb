"""The volunteer's pages (/onboard/…), server-rendered; they work without
JavaScript, which only adds the bank search, the camera scan and the offline
queue (static/js/onboard-trader.js).

Who: whoever onboards in a market (``market.roles.onboards_in_market``):
its volunteers, its board, the province's officers, superusers. A market or
trader outside that is a 404, like one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chopay import qr_images
from chopay.identifiers import display_vn_mobile
from common.errors import DomainError
from market.models import Bank, Market
from onboarding.traders import selectors
from onboarding.traders.forms import TraderForm, bank_search_text
from onboarding.traders.services import trader_register
from payments.cards.stall_qr import vendor_static_payload
from vendors import consent as consents
from vendors.models import Vendor

# The market the volunteer last registered traders in: the next visit to
# /onboard/ goes straight back to it.
SESSION_MARKET = "onboard_market_id"
PAGE_SIZE = 50


def _markets_or_404(request: HttpRequest) -> list[Market]:
    markets = list(selectors.onboarding_markets(user=request.user))
    if not markets:
        raise Http404
    return markets


@login_required
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """``/onboard/``: the market to register traders in. Straight to its form
    when there is one market, or the one chosen last time (``?change=1`` shows
    the list again)."""
    markets = _markets_or_404(request)
    if "change" not in request.GET:
        remembered = request.session.get(SESSION_MARKET)
        chosen = next((m for m in markets if m.pk == remembered), None)
        if chosen is None and len(markets) == 1:
            chosen = markets[0]
        if chosen is not None:
            return redirect("onboard:trader-new", market_id=chosen.pk)
    return render(request, "onboarding/traders/start.html", {"markets": markets})


def _banks() -> list[dict[str, Any]]:
    return [
        {"bin": bank.bin, "label": f"{bank.short_name} — {bank.name}", "search": bank_search_text(bank)}
        for bank in Bank.objects.order_by("short_name")
    ]


def _form_page(
    request: HttpRequest, market: Market, form: TraderForm, *, status: int = 200, duplicate: Vendor | None = None
) -> HttpResponse:
    context = {
        "market": market,
        "form": form,
        "banks": _banks(),
        "consent_text": consents.VERSIONS.get(str(form["consent_version"].value()), consents.CURRENT.text),
        "duplicate": duplicate,
        "decode_url": reverse("vietqr-decode"),
        "several_markets": selectors.onboarding_markets(user=request.user).count() > 1,
    }
    return render(request, "onboarding/traders/new.html", context, status=status)


# What a refusal of vendors.services.vendor_create says on this page, by its code.
def _refusal_message(code: str) -> tuple[str | None, str]:
    return {
        "invalid_phone": (
            "phone",
            _("This is not a Vietnamese mobile number. Enter 10 digits starting with 0, e.g. 0912 345 678."),
        ),
        "invalid_account_number": ("account_number", _("An account number has 6 to 19 digits or letters.")),
        "invalid_account_name": (
            "account_name",
            _("Write the name as the bank shows it: letters without diacritics."),
        ),
        "account_registered_elsewhere": (
            "account_number",
            _(
                "This bank account is already registered to a stall in another market. Ask the market board: "
                "the trader confirms with a code sent by SMS to the phone on record."
            ),
        ),
        "client_ref_taken": (None, _("This form was already sent by someone else. Check the details and send again.")),
        "consent_required": ("consent", _("Ask the trader for their consent: it is required to register them.")),
        "unknown_consent_version": (
            "consent",
            _("The consent text has changed: read the new text to the trader and tick again."),
        ),
    }.get(code, (None, _("The trader could not be registered. Check the details and send again.")))


def _codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors if e.code}
    return {e.code for e in error.error_list if e.code}


@login_required
@require_http_methods(["GET", "POST"])
def trader_new(request: HttpRequest, market_id: int) -> HttpResponse:
    """``/onboard/traders/new/<market>/``: one form for a new trader."""
    market = selectors.onboarding_market(user=request.user, market_id=market_id)
    if market is None:
        raise Http404
    request.session[SESSION_MARKET] = market.pk
    if request.method != "POST":
        return _form_page(request, market, TraderForm.blank())
    form = TraderForm(request.POST)
    if not form.is_valid():
        return _form_page(request, market, form, status=400)
    data = form.cleaned_data
    try:
        registration = trader_register(
            actor=request.user,  # type: ignore[arg-type]
            market=market,
            client_ref=data["client_ref"],
            consent=form.consent_given(),
            full_name=data["full_name"],
            phone=data["phone"],
            stall_label=data["stall_label"],
            goods_category=data["goods_category"],
            bank=data["bank"],
            account_number=data["account_number"],
            account_name=data["account_name"],
        )
    except ValidationError as error:
        codes = _codes(error)
        if codes & {"duplicate_phone", "duplicate_account"}:
            duplicate = selectors.duplicate_of(
                market=market,
                phone=data["phone"],
                bank_bin=data["bank"].bin,
                account_number=data["account_number"],
            )
            return _form_page(request, market, form, status=409, duplicate=duplicate)
        for code in sorted(codes):
            field, message = _refusal_message(code)
            form.add_error(field, message)
        if not form.errors:
            form.add_error(None, _refusal_message("")[1])
        return _form_page(request, market, form, status=400)
    except DomainError as error:
        if error.code == "client_ref_taken":
            # Someone else's submission id (a copied page): this form gets its own.
            fresh = request.POST.copy()
            fresh["client_ref"] = str(uuid.uuid4())
            form.data = fresh
        field, message = _refusal_message(error.code)
        form.add_error(field, message)
        return _form_page(request, market, form, status=error.status)
    except PermissionDenied:
        raise Http404 from None
    # What the done screen says about the SMS, in its address: the page's
    # script fetches this answer and then shows the page it redirects to, so a
    # one-time flash message would be gone by then.
    sms = "again" if not registration.created else ("sent" if registration.welcomed else "failed")
    url = reverse("onboard:trader", kwargs={"vendor_id": registration.vendor.pk})
    return redirect(f"{url}?done=1&sms={sms}")


@login_required
@require_GET
def trader(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """``/onboard/traders/<id>/``: a trader's stall QR, card and status; the
    done screen after registering (``?done=1``)."""
    vendor = selectors.trader_get(user=request.user, vendor_id=vendor_id)
    if vendor is None:
        raise Http404
    printable = vendor.status in (Vendor.Status.PENDING, Vendor.Status.ACTIVE)
    context = {
        "vendor": vendor,
        "done": request.GET.get("done") == "1",
        "sms": request.GET.get("sms", ""),
        "qr_svg": qr_images.render_svg(vendor_static_payload(vendor), size=280) if printable else None,
        "card_url": reverse("vendor-card-pdf", args=[vendor.pk]) if printable else None,
        "phone": display_vn_mobile(vendor.phone),
        "awaiting": vendor.status == Vendor.Status.PENDING,
    }
    return render(request, "onboarding/traders/trader.html", context)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/onboard/sw.js``: the service worker that sends queued forms by
    Background Sync where the browser has it (scope ``/onboard/``)."""
    response = render(request, "onboarding/traders/sw.js", content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_GET
def my_traders(request: HttpRequest) -> HttpResponse:
    """``/onboard/traders/``: everyone I registered, with whether each has been
    paid and come back, so that I know whom to visit again."""
    _markets_or_404(request)
    rows = selectors.trader_rows(list(selectors.my_traders(user=request.user)))
    visit_only = request.GET.get("show") == "visit"
    to_visit = sum(1 for row in rows if row.needs_visit)
    shown = [row for row in rows if row.needs_visit] if visit_only else rows
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "total": len(rows),
        "to_visit": to_visit,
        "visit_only": visit_only,
        "several_markets": len({row.vendor.market_id for row in rows}) > 1,
    }
    return render(request, "onboarding/traders/mine.html", context)
