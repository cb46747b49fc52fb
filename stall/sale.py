"""The sale QR (issue 14, item 4): ``/stall/sale/`` — a keypad for the amount,
then ``/stall/sale/<id>/`` — the dynamic VietQR full screen with its
countdown, which turns green with a chime when that sale is paid.

The rules are ``payments.sale_qr`` (create, expiry, who may sell); a request
is settled by the bank credit that carries its reference
(``payments.bank_credits.attribution``), never here. The page polls
``/stall/sale/<id>/status/`` (JSON) every 1.5 s; without JavaScript it
reloads itself every 5 s. See docs/stall.md "Sale QR".
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chopay import qr_images
from chopay.vietqr import MAX_AMOUNT
from common.errors import DomainError
from payments.models import Payment, PaymentRequest
from payments.receipts.selectors import amount_text
from payments.sale_qr.selectors import display_status
from payments.sale_qr.services import payment_request_create
from stall.access import dong_words, json_error, vendor_json, vendor_page
from vendors.models import Vendor

QUICK_AMOUNTS = (10_000, 20_000, 50_000, 100_000)
_KEY_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


class SaleForm(forms.Form):
    amount = forms.IntegerField(label=gettext_lazy("Amount (đồng)"), min_value=1, max_value=MAX_AMOUNT, required=False)
    # A quick-amount button (name="quick") works without JavaScript too.
    quick = forms.IntegerField(min_value=1, max_value=MAX_AMOUNT, required=False)
    # Drawn when the form is shown: a double tap sends the same key twice, and
    # the second create returns the first QR instead of making another.
    key = forms.RegexField(regex=_KEY_PATTERN, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        amount = data.get("quick") or data.get("amount")
        if not amount and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount of the sale, e.g. 64000."))
        data["amount"] = amount
        return data


def _refusal(error: DomainError) -> str:
    return {
        "invalid_amount": _("The amount must be a whole number of đồng, at least 1 đồng."),
        "vendor_not_active": _(
            "Your stall has not been approved yet: the market board checks your QR code first. "
            "You can make sale QRs once it is approved."
        ),
        "vendor_suspended": _("Your stall is suspended and cannot take payments. Ask the market board."),
    }.get(error.code, _("The sale QR could not be made. Try again."))


def _form_page(request: HttpRequest, form: SaleForm, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "key": uuid.uuid4().hex,
        "quick_amounts": [(amount, amount_text(amount)) for amount in QUICK_AMOUNTS],
        "max_amount": MAX_AMOUNT,
    }
    response = render(request, "stall/sale.html", context, status=status)
    # Going back to the keypad must draw a fresh key, not replay the last sale.
    response["Cache-Control"] = "no-store"
    return response


@vendor_page
@require_http_methods(["GET", "POST"])
def sale(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    """The keypad; its POST makes the sale QR and goes to it (303)."""
    if request.method != "POST":
        return _form_page(request, SaleForm())
    form = SaleForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    amount, key = form.cleaned_data["amount"], form.cleaned_data["key"] or None
    try:
        try:
            sale_request, _created = payment_request_create(
                actor=request.user,  # type: ignore[arg-type]
                vendor=vendor,
                amount=amount,
                idempotency_key=key,
            )
        except DomainError as error:
            if error.code != "idempotency_conflict":
                raise
            # The key of a page shown earlier, with another amount: a new sale.
            sale_request, _created = payment_request_create(
                actor=request.user,  # type: ignore[arg-type]
                vendor=vendor,
                amount=amount,
            )
    except DomainError as error:
        form.add_error(None, _refusal(error))
        return _form_page(request, form, status=409 if error.status == 409 else 400)
    return redirect("stall:sale-show", pk=sale_request.pk)


def _own_request(vendor: Vendor, pk: int) -> PaymentRequest | None:
    return PaymentRequest.objects.filter(vendor=vendor, pk=pk).first()


def paid_amount(sale_request: PaymentRequest) -> int:
    """What the succeeded payments settling this sale brought in."""
    total = Payment.objects.filter(payment_request=sale_request, status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    return int(total or 0)


def _seconds_left(sale_request: PaymentRequest) -> int:
    return max(0, int((sale_request.expires_at - timezone.now()).total_seconds()))


def _qr_svg(payload: str, label: str) -> str:
    svg = qr_images.render_svg(payload, size=320).split("\n", 1)[1]  # no XML declaration inline
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="sale-qr__svg" ', 1)


@vendor_page
@require_GET
def sale_show(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    sale_request = _own_request(vendor, pk)
    if sale_request is None:
        raise Http404
    status = display_status(sale_request)
    left = _seconds_left(sale_request)
    context = {
        "sale": sale_request,
        "status": status,
        "amount_text": amount_text(sale_request.amount),
        "paid_text": dong_words(paid_amount(sale_request) or sale_request.amount),
        "seconds_left": left,
        "countdown": f"{left // 60}:{left % 60:02d}",
        "qr_svg": mark_safe(_qr_svg(sale_request.payload, _("Sale QR code"))) if status == "pending" else "",  # noqa: S308 - our own SVG
    }
    response = render(request, "stall/sale_show.html", context)
    response["Cache-Control"] = "no-store"
    return response


@vendor_json
@require_GET
def sale_status(request: HttpRequest, vendor: Vendor, pk: int) -> HttpResponse:
    """``{status, paid_amount, expires_at, expires_in}``: pending, paid,
    expired (pending past its expiry included) or cancelled."""
    sale_request = _own_request(vendor, pk)
    if sale_request is None:
        return json_error("not_found", _("No such sale."), status=404)
    body = {
        "status": display_status(sale_request),
        "paid_amount": paid_amount(sale_request),
        "amount": sale_request.amount,
        "expires_at": sale_request.expires_at.isoformat(),
        "expires_in": _seconds_left(sale_request),
    }
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


urlpatterns = [
    path("sale/", sale, name="sale"),
    path("sale/<int:pk>/", sale_show, name="sale-show"),
    path("sale/<int:pk>/status/", sale_status, name="sale-status"),
]
