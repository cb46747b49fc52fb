"""The board's pages. Each asks ``selectors.board_market`` first: outside the
caller's scope (a volunteer, a trader, another market's board, another
province's officer) the page is a 404, exactly like one that does not exist.
Decisions are POSTed forms (CSRF); the rules and refusals are the services'
(``vendors.reviews``, ``vendors.payout_changes``); a refusal is shown on the
page, never a 500."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.errors import DomainError, NotFound
from market import roles
from market.models import Market
from market.selectors import markets_onboardable_by
from onboarding.review import selectors
from onboarding.review.forms import CorrectionForm, ReasonForm
from payments.cards import services as card_services
from payments.models import CardBatch
from vendors import edits, payout_changes, reviews
from vendors.models import PayoutAccountChange, Vendor
from vendors.payout_changes import PayoutChangeConflict


def _market(request: HttpRequest, market_id: int) -> Market:
    try:
        return selectors.board_market(user=request.user, market_id=market_id)
    except NotFound:
        raise Http404 from None


def _optional_url(name: str, **kwargs: Any) -> str | None:
    """The URL of a page another part of onboarding provides, or None while
    that part is not installed (the link is then not shown)."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _first_url(*candidates: tuple[str, dict[str, Any]]) -> str | None:
    for name, kwargs in candidates:
        url = _optional_url(name, **kwargs)
        if url:
            return url
    return None


@login_required
@require_GET
def board_home(request: HttpRequest, market_id: int) -> HttpResponse:
    """The board's page for one market: what waits for it, and where to act."""
    market = _market(request, market_id)
    context = {
        "market": market,
        "counts": selectors.board_counts(market=market),
        "batch": selectors.latest_card_batch(market=market),
        # Pages of the other onboarding features, linked once they are merged.
        "invite_url": _first_url(("onboard:people_market", {"market_id": market.pk}), ("onboard:people", {})),
        "import_url": _first_url(("onboard:import", {}), ("onboard:import", {"market_id": market.pk})),
        "dashboard_url": _optional_url("dashboard:market", market_id=market.pk),
    }
    return render(request, "onboarding/review/home.html", context)


# --- registrations ---------------------------------------------------------------------


def _review_context(
    request: HttpRequest, market: Market, *, failed: Vendor | None = None, form: ReasonForm | None = None
) -> dict[str, Any]:
    queue = list(selectors.review_queue(market=market))
    for vendor in queue:
        vendor.refusal = reviews.decision_refusal(actor=request.user, vendor=vendor)  # type: ignore[attr-defined,arg-type]
        mine = failed is not None and vendor.pk == failed.pk
        vendor.reject_form = form if mine else ReasonForm(auto_id=f"id_%s_{vendor.pk}")  # type: ignore[attr-defined]
        vendor.resent = bool(vendor.history and vendor.history[0].from_status == Vendor.Status.REJECTED)  # type: ignore[attr-defined]
        vendor.last_rejection = next(  # type: ignore[attr-defined]
            (d for d in vendor.history if d.to_status == Vendor.Status.REJECTED),  # type: ignore[attr-defined]
            None,
        )
    return {
        "market": market,
        "queue": queue,
        "rejected": list(selectors.rejected_registrations(market=market)[:50]),
        "failed": next((vendor for vendor in queue if failed is not None and vendor.pk == failed.pk), None),
    }


@login_required
@require_GET
def review(request: HttpRequest, market_id: int) -> HttpResponse:
    """The review queue: pending registrations, oldest first, each with an
    approve button and a reject form; then the rejected ones with their reason."""
    market = _market(request, market_id)
    return render(request, "onboarding/review/queue.html", _review_context(request, market))


def _review_vendor(market: Market, vendor_id: int) -> Vendor:
    try:
        return selectors.review_vendor(market=market, vendor_id=vendor_id)
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def approve(request: HttpRequest, market_id: int, vendor_id: int) -> HttpResponseRedirect:
    market = _market(request, market_id)
    vendor = _review_vendor(market, vendor_id)
    try:
        reviews.vendor_approve(actor=request.user, vendor=vendor)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(name)s is approved: their QR code takes payments now.") % {"name": vendor.full_name}
        )
    return redirect("onboard:board-review", market_id=market.pk)


@login_required
@require_http_methods(["POST"])
def reject(request: HttpRequest, market_id: int, vendor_id: int) -> HttpResponse:
    market = _market(request, market_id)
    vendor = _review_vendor(market, vendor_id)
    form = ReasonForm(request.POST, auto_id=f"id_%s_{vendor.pk}")
    if form.is_valid():
        try:
            reviews.vendor_reject(actor=request.user, vendor=vendor, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except DomainError as error:
            if error.field != "reason":
                messages.error(request, error.message)
                return redirect("onboard:board-review", market_id=market.pk)
            form.add_error("reason", error.message)
        else:
            messages.success(
                request,
                _("%(name)s is rejected; the volunteer sees your reason and can send it again.")
                % {"name": vendor.full_name},
            )
            return redirect("onboard:board-review", market_id=market.pk)
    context = _review_context(request, market, failed=vendor, form=form)
    return render(request, "onboarding/review/queue.html", context, status=400)


# --- payout-account changes ------------------------------------------------------------


def _payouts_context(
    request: HttpRequest,
    market: Market,
    *,
    failed: PayoutAccountChange | None = None,
    form: ReasonForm | None = None,
) -> dict[str, Any]:
    changes = list(selectors.pending_payout_changes(market=market))
    for change in changes:
        change.refusal = roles.checker_refusal(  # type: ignore[attr-defined]
            request.user, market_id=market.pk, maker_ids=[change.requested_by_id], vendor=change.vendor
        )
        change.reject_form = (  # type: ignore[attr-defined]
            form if failed is not None and change.pk == failed.pk else ReasonForm(auto_id=f"id_%s_c{change.pk}")
        )
    shown = next((change for change in changes if failed is not None and change.pk == failed.pk), None)
    return {"market": market, "changes": changes, "failed": shown}


@login_required
@require_GET
def payouts(request: HttpRequest, market_id: int) -> HttpResponse:
    """Pending payout-account changes: old and new account side by side; the
    stall's QR keeps paying the old one until a board member approves."""
    market = _market(request, market_id)
    return render(request, "onboarding/review/payouts.html", _payouts_context(request, market))


def _change(market: Market, change_id: int) -> PayoutAccountChange:
    try:
        return selectors.payout_change_in_market(market=market, change_id=change_id)
    except NotFound:
        raise Http404 from None


def _refusal_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(getattr(error, "message", error))


@login_required
@require_POST
def payout_approve(request: HttpRequest, market_id: int, change_id: int) -> HttpResponseRedirect:
    market = _market(request, market_id)
    change = _change(market, change_id)
    try:
        payout_changes.payout_change_approve(actor=request.user, change=change)  # type: ignore[arg-type]
    except (PermissionDenied, PayoutChangeConflict, ValidationError, DomainError) as error:
        messages.error(request, _refusal_message(error))
    else:
        messages.success(
            request,
            _("Approved: %(name)s's QR code pays the new account from now on.") % {"name": change.vendor.full_name},
        )
    return redirect("onboard:board-payouts", market_id=market.pk)


@login_required
@require_POST
def payout_reject(request: HttpRequest, market_id: int, change_id: int) -> HttpResponse:
    market = _market(request, market_id)
    change = _change(market, change_id)
    form = ReasonForm(request.POST, auto_id=f"id_%s_c{change.pk}")
    if form.is_valid():
        try:
            payout_changes.payout_change_reject(actor=request.user, change=change, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except (PermissionDenied, PayoutChangeConflict, ValidationError, DomainError) as error:
            messages.error(request, _refusal_message(error))
        else:
            messages.success(
                request,
                _("Rejected: %(name)s keeps the old account.") % {"name": change.vendor.full_name},
            )
        return redirect("onboard:board-payouts", market_id=market.pk)
    context = _payouts_context(request, market, failed=change, form=form)
    return render(request, "onboarding/review/payouts.html", context, status=400)


# --- the market's cards ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cards(request: HttpRequest, market_id: int) -> HttpResponse:
    """Print the whole market's cards: a button starts the batch PDF job
    (``payments.cards``); the page shows its progress (reloading itself while
    it runs, no JavaScript) and the link once the PDF is ready."""
    market = _market(request, market_id)
    if request.method == "POST":
        _batch, created = card_services.card_batch_request(actor=request.user, market=market)  # type: ignore[arg-type]
        if created:
            messages.success(request, _("Preparing the cards; this page shows when the PDF is ready."))
        return redirect("onboard:board-cards", market_id=market.pk)
    batch = selectors.latest_card_batch(market=market)
    download_url = None
    if batch is not None and batch.status == CardBatch.Status.DONE and batch.file:
        download_url = reverse("market-cards-job-download", kwargs={"pk": market.pk, "job_id": batch.pk})
    running = batch is not None and batch.status in (CardBatch.Status.PENDING, CardBatch.Status.RUNNING)
    context = {
        "market": market,
        "count": selectors.board_counts(market=market)["cards"],
        "batch": batch,
        "running": running,
        "progress": round(100 * batch.done / batch.total) if batch and batch.total else 0,
        "download_url": download_url,
    }
    return render(request, "onboarding/review/cards.html", context)


# --- correcting a rejected registration --------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, market_id: int, vendor_id: int) -> HttpResponse:
    """A rejected registration, corrected and sent again for review, by the
    market's volunteers (typically whoever registered it), board or province.
    Outside their markets a 404. Once sent, the page says it waits for the board."""
    market = markets_onboardable_by(user=request.user).filter(pk=market_id).first()
    if market is None:
        raise Http404
    vendor = _review_vendor(market, vendor_id)
    last_rejection = reviews.vendor_decisions(vendor=vendor).filter(to_status=Vendor.Status.REJECTED).first()
    form = CorrectionForm.for_vendor(vendor)
    if request.method == "POST" and vendor.status == Vendor.Status.REJECTED:
        form = CorrectionForm(request.POST)
        if form.is_valid():
            changed = {
                field: value
                for field, value in form.cleaned_data.items()
                if field in form.changed_data or field in ("account_number", "account_name")
            }
            try:
                edits.vendor_correct(actor=request.user, vendor=vendor, data=changed)  # type: ignore[arg-type]
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request, _("Sent again: %(name)s waits for the board's review.") % {"name": vendor.full_name}
                )
                return redirect("onboard:resubmit", market_id=market.pk, vendor_id=vendor.pk)
    context = {"market": market, "vendor": vendor, "form": form, "last_rejection": last_rejection}
    return render(request, "onboarding/review/correct.html", context, status=400 if form.errors else 200)
