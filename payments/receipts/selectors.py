"""Reads of live receipts: a stall's receipts of today, where a stream
resumes, and the market board's view of the phones' announcements.

A receipt is a succeeded payment with a vendor (never a pending, failed,
disputed or refunded one). "Today" is the payment's ``local_date``: the
Vietnam calendar day of the moment the money moved, the day of every rollup
(and the one the ``(vendor, local_date)`` index serves).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import get_language

from market.models import Market
from payments.models import Payment, ReceiptAnnouncement, local_date
from payments.receipts.cursor import Cursor
from vendors.models import Vendor

ANNOUNCED_ALOUD = (ReceiptAnnouncement.Method.SPEECH, ReceiptAnnouncement.Method.CLIPS)
_RECEIPT_FIELDS = (
    "id",
    "vendor",
    "amount",
    "channel",
    "payer_masked",
    "payment_request",
    "recorded_at",
    "local_date",
)


def amount_text(amount: int) -> str:
    """64000 → ``64.000 ₫`` (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".") + " ₫"


_labels: dict[tuple[str, str | None], str] = {}


def _channel_label(channel: str, language: str | None = None) -> str:
    """The channel's label in ``language`` (default: the active one), memoised:
    the intake makes a receipt of every payment, and a lazy label costs a
    translation lookup."""
    key = (channel, language or get_language())
    label = _labels.get(key)
    if label is None:
        label = _labels[key] = str(dict(Payment._meta.get_field("channel").flatchoices).get(channel, channel))
    return label


def receipt_dict(payment: Payment, *, language: str | None = None) -> dict[str, Any]:
    """What the stall page shows of one receipt (the interface of docs/stall.md).
    ``language``: the active one, when the caller has it at hand (it costs a
    context-local lookup per receipt otherwise)."""
    return receipt_fields(
        id=payment.pk,
        amount=payment.amount,
        recorded_at=payment.recorded_at,
        channel=payment.channel,
        payer=payment.payer_masked,
        sale=payment.payment_request_id,
        language=language,
    )


def utc_text(moment: dt.datetime) -> str:
    """``2026-03-01T01:15:00.123456Z``: how a receipt gives its time."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def receipt_fields(
    *,
    id: int,
    amount: int,
    recorded_at: dt.datetime | None,
    channel: str,
    payer: str,
    sale: int | None,
    language: str | None = None,
) -> dict[str, Any]:
    """``receipt_dict`` of a payment known by these facts (a published one's, say)."""
    local = recorded_at.astimezone(timezone.get_default_timezone()) if recorded_at is not None else None
    return {
        "id": id,
        "amount": amount,
        "amount_text": amount_text(amount),
        "recorded_at": utc_text(recorded_at) if recorded_at is not None else "",
        "time": f"{local.hour:02d}:{local.minute:02d}" if local is not None else "",
        "channel": channel,
        "channel_label": _channel_label(channel, language) if channel else "",
        "payer": payer,
        "sale": sale,
    }


def receipt_published(facts: dict[str, Any], *, language: str | None = None) -> dict[str, Any]:
    """The receipt of a payment published by ``payments.receipts.publish``:
    its facts (id, amount, recorded_at as ``utc_text``, channel, payer,
    sale) made into what the stall page shows, by the stream that shows it."""
    try:
        recorded = dt.datetime.fromisoformat(facts.get("recorded_at") or "")
    except (TypeError, ValueError):
        recorded = None
    return receipt_fields(
        id=facts["id"],
        amount=int(facts.get("amount") or 0),
        recorded_at=recorded if recorded is not None and recorded.tzinfo is not None else None,
        channel=str(facts.get("channel") or ""),
        payer=str(facts.get("payer") or ""),
        sale=facts.get("sale"),
        language=language,
    )


def vietnam_today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or timezone.now())


def _receipts(vendor: Vendor | int, day: dt.date) -> QuerySet[Payment]:
    vendor_id = vendor if isinstance(vendor, int) else vendor.pk
    return Payment.objects.filter(vendor_id=vendor_id, status=Payment.Status.SUCCEEDED, local_date=day).only(
        *_RECEIPT_FIELDS
    )


def receipts_today(vendor: Vendor | int, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Today's receipts of ``vendor``, newest first."""
    rows = _receipts(vendor, vietnam_today(now)).order_by("-recorded_at", "-id")
    return [receipt_dict(p) for p in rows]


def today_total(vendor: Vendor | int, *, now: dt.datetime | None = None) -> dict[str, int]:
    """``{"count", "value"}`` of today's receipts."""
    totals = _receipts(vendor, vietnam_today(now)).aggregate(count=Count("id"), value=Sum("amount"))
    return {"count": totals["count"] or 0, "value": totals["value"] or 0}


@dataclass(frozen=True)
class Resume:
    """One read of the ledger after a cursor: the receipts found (oldest
    first), each one's ``recorded_at``, the cursor that covers them (settled
    as of ``read_at``), and today's total as of the same read."""

    receipts: list[dict[str, Any]]
    recorded_at: dict[int, dt.datetime]
    cursor: Cursor
    read_at: dt.datetime
    day: dt.date
    today: dict[str, int]


def ledger_read(vendor: Vendor | int, cursor: Cursor | str | None, *, now: dt.datetime | None = None) -> Resume:
    """Today's receipts of ``vendor`` not covered by ``cursor``, the cursor
    after them (cursor.py) and today's total, from ONE query over today's
    receipts (a stall's day is a few hundred rows at most), so the total and
    the list come from the same snapshot."""
    if not isinstance(cursor, Cursor):
        cursor = Cursor.parse(cursor)
    read_at = now or timezone.now()  # taken before the query: the read sees every commit before it
    day = vietnam_today(read_at)
    payments = list(_receipts(vendor, day).order_by("id"))
    fresh = [p for p in payments if not cursor.covers(p.pk)]
    recorded = {p.pk: p.recorded_at for p in fresh}
    after = cursor.with_delivered(recorded).settled(recorded, read_at=read_at)
    today = {"count": len(payments), "value": sum(p.amount for p in payments)}
    return Resume([receipt_dict(p) for p in fresh], recorded, after, read_at, day, today)


def receipts_after(vendor: Vendor | int, cursor: Cursor | str | None) -> list[dict[str, Any]]:
    """Today's receipts of ``vendor`` that ``cursor`` does not cover, oldest first."""
    if not isinstance(cursor, Cursor):
        cursor = Cursor.parse(cursor)
    rows = _receipts(vendor, vietnam_today()).filter(id__gt=cursor.watermark)
    if cursor.delivered:
        rows = rows.exclude(id__in=sorted(cursor.delivered))
    return [receipt_dict(p) for p in rows.order_by("id")]


def cursor_now(vendor: Vendor | int, *, now: dt.datetime | None = None) -> str:
    """The cursor of the list ``receipts_today`` shows now: the page passes
    it on its first connect, so the stream sends only what came after."""
    return ledger_read(vendor, Cursor(), now=now).cursor.encode()


# --- the board's view ---------------------------------------------------------------


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


@dataclass(frozen=True)
class SilentStall:
    vendor_id: int
    name: str
    stall_label: str
    phone: str
    payments_today: int
    unannounced: int
    last_announced_at: dt.datetime | None
    median_delay_ms: int | None


def silent_stalls(market: Market | int, *, now: dt.datetime | None = None) -> list[SilentStall]:
    """Stalls of ``market`` that were paid today while their phone stayed
    silent: at least one receipt recorded more than STALL_SILENT_GRACE_SECONDS
    ago that no device announced aloud (speech or clips). Most unannounced
    first. Four queries whatever the size of the market."""
    market_id = market if isinstance(market, int) else market.pk
    now = now or timezone.now()
    day = vietnam_today(now)
    cutoff = now - dt.timedelta(seconds=settings.STALL_SILENT_GRACE_SECONDS)
    aloud = ReceiptAnnouncement.objects.filter(payment=OuterRef("pk"), method__in=ANNOUNCED_ALOUD)
    counts = (
        Payment.objects.filter(
            market_id=market_id, local_date=day, status=Payment.Status.SUCCEEDED, vendor__isnull=False
        )
        .values("vendor_id")
        .annotate(
            paid=Count("id"),
            unannounced=Count("id", filter=Q(~Exists(aloud), recorded_at__lt=cutoff)),
        )
        .filter(unannounced__gt=0)
    )
    by_vendor = {row["vendor_id"]: row for row in counts}
    if not by_vendor:
        return []
    start, end = _day_bounds(day)
    today_acks = ReceiptAnnouncement.objects.filter(
        market_id=market_id, announced_at__gte=start, announced_at__lt=end, vendor_id__in=list(by_vendor)
    )
    last = dict(
        today_acks.filter(method__in=ANNOUNCED_ALOUD)
        .values("vendor_id")
        .annotate(last=Max("announced_at"))
        .values_list("vendor_id", "last")
    )
    delays: dict[int, list[int]] = defaultdict(list)
    for vendor_id, delay in today_acks.filter(method__in=ANNOUNCED_ALOUD).values_list("vendor_id", "delay_ms"):
        delays[vendor_id].append(delay)
    vendors = Vendor.objects.filter(pk__in=list(by_vendor)).values_list("pk", "full_name", "stall_label", "phone")
    rows = [
        SilentStall(
            vendor_id=pk,
            name=name,
            stall_label=label,
            phone=phone,
            payments_today=by_vendor[pk]["paid"],
            unannounced=by_vendor[pk]["unannounced"],
            last_announced_at=last.get(pk),
            median_delay_ms=int(median(delays[pk])) if delays.get(pk) else None,
        )
        for pk, name, label, phone in vendors
    ]
    return sorted(rows, key=lambda r: (-r.unannounced, r.stall_label, r.vendor_id))


def _percentile(ordered: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def announcement_delays(market: Market | int, day: dt.date) -> dict[str, int | None]:
    """``{"count", "p50", "p95"}`` of the delay from a payment's recording to
    its first announcement aloud on any phone, over the announcements of
    ``day`` (Vietnam) in ``market``; p50/p95 None when there is none."""
    market_id = market if isinstance(market, int) else market.pk
    start, end = _day_bounds(day)
    firsts = sorted(
        ReceiptAnnouncement.objects.filter(
            market_id=market_id, announced_at__gte=start, announced_at__lt=end, method__in=ANNOUNCED_ALOUD
        )
        .values("payment_id")
        .annotate(first=Min("delay_ms"))
        .values_list("first", flat=True)
    )
    return {"count": len(firsts), "p50": _percentile(firsts, 0.5), "p95": _percentile(firsts, 0.95)}
