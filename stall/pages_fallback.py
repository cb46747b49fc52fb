"""A stand-in for ``payments.receipts.selectors`` while the live part of the
stall issue (branch stall-live) is not merged: the same names and shapes
(docs/stall.md, "Interfaces"), read straight from the ledger. ``stall.pages``
uses it only when the real module is missing; delete it once merged."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from payments.models import Channel, Payment
from payments.models import local_date as vietnam_date
from vendors.models import Vendor


def _today(vendor: Vendor) -> Any:
    return Payment.objects.filter(
        vendor=vendor, status=Payment.Status.SUCCEEDED, local_date=vietnam_date(timezone.now())
    )


def receipt_dict(payment: Payment) -> dict[str, Any]:
    local = timezone.localtime(payment.recorded_at)
    return {
        "id": payment.pk,
        "amount": payment.amount,
        "amount_text": f"{payment.amount:,} ₫".replace(",", "."),
        "recorded_at": payment.recorded_at.isoformat(),
        "time": local.strftime("%H:%M"),
        "channel": payment.channel,
        "channel_label": str(Channel(payment.channel).label),
        "payer": payment.payer_masked,
        "sale": payment.payment_request_id,
    }


def receipts_today(vendor: Vendor) -> list[dict[str, Any]]:
    return [receipt_dict(p) for p in _today(vendor).order_by("-recorded_at", "-pk")]


def today_total(vendor: Vendor) -> dict[str, int]:
    totals = _today(vendor).aggregate(count=Count("pk"), value=Sum("amount"))
    return {"count": totals["count"], "value": totals["value"] or 0}


def cursor_now(vendor: Vendor) -> str:
    last = Payment.objects.filter(vendor=vendor).order_by("-pk").values_list("pk", flat=True).first()
    return str(last or 0)
