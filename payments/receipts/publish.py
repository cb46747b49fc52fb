"""Tell the connected stall pages that a payment became a receipt.

Every path where a payment becomes a succeeded payment of a vendor calls
``publish_receipts_on_commit`` (or ``publish_payments_on_commit`` when it
holds the rows already, to save the hot webhook path a read): the bank-credit
ingest (one delivery, sale-QR matches included), the intake's batches, the
USSD approval, and the ledger's assignments and resolved disputes.

After the transaction commits (never before: a rolled-back payment was never
money), the receipts are PUBLISHed as one compact JSON array (one message
per commit, however many receipts it made) on ONE Redis channel per
deployment, each receipt with its ``vendor_id``. One channel rather than
one per vendor because each web process holds a single subscriber for all
its streams (payments.receipts.stream): a fixed subscription made once at
start-up, so "subscribed before the first ledger read" is a one-off
handshake rather than a SUBSCRIBE/UNSUBSCRIBE per phone (500 phones
reconnect every 30 min), and the message volume is the province's payment
rate — a few hundred small messages a second at worst — which each process
filters by ``vendor_id`` with one dict lookup. Redis pub/sub ignores the
database number, so the channel carries it: two deployments (or test runs)
on one Redis stay apart.

The intake's writer holds its batch's receipts (``receipts_held``) until
the batch's deliveries are answered, then publishes them all as one
message: the providers' answers do not wait for Redis.

Redis is only a messenger: without REDIS_URL nothing is published (the
streams then read the ledger every second), and a Redis error is logged and
swallowed — the payment is in the ledger, where every stream's periodic
re-read finds it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from common.breaker import REDIS
from payments.models import Payment
from payments.receipts.selectors import utc_text

logger = logging.getLogger(__name__)


def channel_name(redis_url: str | None = None) -> str:
    """``cho40:<db>:receipts``: the one channel of this deployment."""
    path = urlsplit(redis_url if redis_url is not None else settings.REDIS_URL or "").path.strip("/")
    return f"cho40:{path or '0'}:receipts"


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def message(payment: Payment, *, late: bool = False) -> str:
    """One receipt as published (``_send`` puts a batch's in one array): the
    payment's facts — ``id``, ``vendor_id``, ``amount``, ``recorded_at``,
    ``channel``, ``payer``, ``sale``, ``local_date`` and ``late`` (a payment
    that became a receipt after it was recorded: an assignment, an approval,
    a resolved dispute — see stream.py). The streams make them into what the
    stall page shows (``selectors.receipt_published``): there, only for the
    phones connected, rather than here for every payment of the province."""
    return _encode(
        {
            "id": payment.pk,
            "vendor_id": payment.vendor_id,
            "amount": payment.amount,
            "recorded_at": utc_text(payment.recorded_at),
            "channel": payment.channel,
            "payer": payment.payer_masked,
            "sale": payment.payment_request_id,
            "local_date": payment.local_date.isoformat(),
            "late": late,
        }
    )


@functools.cache
def _client(url: str) -> Any:
    import redis

    # Short timeouts: a dead Redis must not hold up the request that recorded the payment.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, health_check_interval=30)


def _send(messages: list[str]) -> None:
    """PUBLISH ``messages`` on the channel as ONE message, a JSON array: a
    batch of the intake costs Redis, and every subscribed process, one message
    however many receipts it carries."""
    _client(settings.REDIS_URL).publish(channel_name(), "[" + ",".join(messages) + "]")


def receipts_in(raw: bytes | str) -> list[dict[str, Any]]:
    """The receipts one channel message carries: a JSON array of them, or a
    single one (as published before batching, and by the stall benchmark's
    probe). ``ValueError`` when it is no JSON."""
    data = json.loads(raw)
    return [item for item in (data if isinstance(data, list) else [data]) if isinstance(item, dict)]


def _publish(messages: list[str]) -> None:
    # The ledger row is what counts: the streams' re-read finds the payment.
    # After a failure Redis is skipped for a few seconds (common/breaker.py),
    # so that an outage costs no request a connection attempt, nor the log a line.
    if not REDIS.closed():
        return
    try:
        _send(messages)
    except Exception as exc:
        REDIS.trip(exc, f"{len(messages)} receipt(s) not published, the streams will find them in the ledger")


def _messages(payments: list[Payment], late: bool) -> list[str]:
    try:
        return [message(p, late=late) for p in payments]
    except Exception:  # the payments are recorded all the same; the streams' re-read finds them
        logger.exception("could not publish the receipts of payments %s", [p.pk for p in payments])
        return []


class HeldReceipts:
    """Receipts committed on this thread inside ``receipts_held``, not yet published."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def publish(self) -> None:
        """Publish everything held, as one message, and forget it."""
        messages, self.messages = self.messages, []
        if messages:
            _publish(messages)


_holding = threading.local()


@contextlib.contextmanager
def receipts_held() -> Iterator[HeldReceipts]:
    """Within the block, the receipts this thread's commits make are held
    instead of published, until the caller's ``publish()`` (the intake's
    writer: after it has answered the batch's deliveries). Nested: the outer
    holder keeps them."""
    outer = getattr(_holding, "held", None)
    held = outer or HeldReceipts()
    _holding.held = held
    try:
        yield held
    finally:
        _holding.held = outer


def _publish_rows(payments: list[Payment], late: bool) -> None:
    messages = _messages(payments, late)
    held: HeldReceipts | None = getattr(_holding, "held", None)
    if held is not None:
        held.messages.extend(messages)
    elif messages:
        _publish(messages)


def _is_receipt(payment: Payment) -> bool:
    return payment.pk is not None and payment.vendor_id is not None and payment.status == Payment.Status.SUCCEEDED


def _publish_ids(payment_ids: list[int], late: bool) -> None:
    try:
        payments = list(
            Payment.objects.filter(pk__in=payment_ids, status=Payment.Status.SUCCEEDED, vendor__isnull=False)
        )
    except Exception:
        logger.warning("could not read payments %s to publish them", payment_ids, exc_info=True)
        return
    if payments:
        _publish_rows(payments, late)


def publish_receipts_on_commit(payment_ids: Iterable[int], *, late: bool = False) -> None:
    """After the current transaction commits (at once in autocommit), publish
    the payments ``payment_ids`` that are succeeded payments of a vendor then.
    A no-op without REDIS_URL."""
    ids = sorted({int(i) for i in payment_ids})
    if ids and settings.REDIS_URL:
        transaction.on_commit(functools.partial(_publish_ids, ids, late))


def publish_payments_on_commit(payments: Iterable[Payment], *, late: bool = False) -> None:
    """As ``publish_receipts_on_commit`` for rows the caller holds, just
    written (no read back): those that are succeeded payments of a vendor."""
    if not settings.REDIS_URL:
        return
    receipts = [p for p in payments if _is_receipt(p)]
    if receipts:
        transaction.on_commit(functools.partial(_publish_rows, receipts, late))
