"""My stall (issue 14, item 6): ``/stall/payments/`` — the stall QR and the
printable card opened with the signed-in session (no token header), payments
by day for the last 30 days, this week's and this month's totals, and a CSV
of the stall's payments.

Nothing is rendered here that the payments features do not already render:
the QR is ``payments.cards.stall_qr.vendor_static_payload`` drawn by
``common.http.image_response`` (ETag and all), the card is
``payments.cards.card_pdf``, the days are
``payments.ledger.selectors.payment_daily_summary`` (Vietnam calendar days,
succeeded payments) and the CSV is the ledger export's writer, scoped to the
vendor. A vendor not yet approved (or suspended, or rejected) has no QR or
card here: the page says why. See docs/stall.md "My stall: QR, card, payments".
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from common.http import image_response
from payments.cards import card_pdf
from payments.cards.api import pdf_response
from payments.cards.stall_qr import vendor_static_payload
from payments.ledger.api import csv_lines
from payments.ledger.selectors import payment_daily_summary, payment_list
from payments.receipts.selectors import amount_text
from stall.access import vendor_page
from vendors.models import Vendor

DAYS_SHOWN = 30
QR_PAGE_SIZE = 512


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def stall_totals(*, user: Any, vendor: Vendor, today: dt.date) -> dict[str, Any]:
    """The last ``DAYS_SHOWN`` Vietnam days newest first, and the totals of this
    ISO week and this calendar month, from one grouped query."""
    first_shown = today - dt.timedelta(days=DAYS_SHOWN - 1)
    monday, first_of_month = week_start(today), today.replace(day=1)
    summary = payment_daily_summary(
        user=user, date_from=min(first_shown, monday, first_of_month), date_to=today, vendor_id=vendor.pk
    )

    def total(since: dt.date) -> dict[str, Any]:
        days = [d for d in summary["days"] if d["date"] >= since]
        value = sum(d["amount"] for d in days)
        return {
            "count": sum(d["count"] for d in days),
            "value": value,
            "value_text": amount_text(value),
            "since": since,
        }

    shown = [
        {"date": d["date"], "count": d["count"], "value": d["amount"], "value_text": amount_text(d["amount"])}
        for d in reversed(summary["days"])
        if d["date"] >= first_shown
    ]
    return {"days": shown, "week": total(monday), "month": total(first_of_month), "last30": total(first_shown)}


def _shows_qr(vendor: Vendor) -> bool:
    return vendor.status == Vendor.Status.ACTIVE


@vendor_page
@require_GET
def payments_page(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "vendor": vendor,
        "shows_qr": _shows_qr(vendor),
        "today": today,
        **stall_totals(user=request.user, vendor=vendor, today=today),
    }
    return render(request, "stall/mine.html", context)


def _no_qr(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    return render(request, "stall/mine_no_qr.html", {"vendor": vendor}, status=409)


def _qr(request: HttpRequest, vendor: Vendor, kind: str) -> HttpResponse:
    if not _shows_qr(vendor):
        return _no_qr(request, vendor)
    # image_response reads only the request's headers (If-None-Match), which a
    # Django request has as well as a DRF one.
    response = image_response(cast(Any, request), payload=vendor_static_payload(vendor), kind=kind, size=QR_PAGE_SIZE)
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="cho40-{vendor.merchant_code}.{kind}"'
    return response


@vendor_page
@require_GET
def qr_png(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    return _qr(request, vendor, "png")


@vendor_page
@require_GET
def qr_svg(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    return _qr(request, vendor, "svg")


@vendor_page
@require_GET
def card(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    if not _shows_qr(vendor):
        return _no_qr(request, vendor)
    pdf = card_pdf.render_card_pdf(card_pdf.stall_card(vendor))
    return pdf_response(pdf, filename=f"cho40-{vendor.merchant_code}.pdf")


@vendor_page
@require_GET
def payments_csv(request: HttpRequest, vendor: Vendor) -> StreamingHttpResponse:
    """Every payment of this stall, newest first, in the ledger export's columns
    (UTF-8 with a BOM, so that Excel shows Vietnamese names)."""
    payments = payment_list(user=request.user).filter(vendor_id=vendor.pk).order_by("-occurred_at", "-id")
    response = StreamingHttpResponse(csv_lines(payments), content_type="text/csv; charset=utf-8")
    filename = f"cho40-{vendor.merchant_code}-payments-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    return response


urlpatterns = [
    path("payments/", payments_page, name="payments"),
    path("payments.csv", payments_csv, name="payments-csv"),
    path("qr.png", qr_png, name="qr-png"),
    path("qr.svg", qr_svg, name="qr-svg"),
    path("card.pdf", card, name="card-pdf"),
]
