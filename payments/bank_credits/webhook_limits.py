"""Bounds on what unauthenticated webhook POSTs can cost us (docs/security.md).

Every delivery is stored whatever its signature (the single path stores it
before checking; the intake's batch stores it with its outcome, before it is
answered), so that a real one is never lost; these rules keep that from
filling the disk:

- a body larger than ``WEBHOOK_MAX_BODY_BYTES`` is refused (413) before it is
  read and is not stored (providers' deliveries are a few KB);
- an address whose deliveries were refused ``WEBHOOK_REFUSALS_PER_WINDOW``
  times within ``WEBHOOK_REFUSAL_WINDOW_SECONDS`` (unsigned, forged, stale,
  not JSON, too large) gets 429 with ``Retry-After`` for every further
  delivery that fails verification, and those are not stored. A delivery that
  verifies is never limited: the check comes after verification;
- refused rows are deleted after ``WEBHOOK_REFUSED_RETENTION_DAYS``
  (``webhook_deliveries_purge_refused``, a daily beat task).

The counts live in Django's cache (Redis in production), so every process
and both webhook lanes share them. When the cache fails, deliveries are let
through (logged once per outage, common/breaker.py, which also skips the
cache for a few seconds after a failure): a bank credit must never be lost to
a cache outage, nor wait on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from common.breaker import REDIS
from payments.bank_credits.providers.base import PayloadTooLarge, TooManyRefusals
from payments.models import WebhookDelivery

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# Statuses of deliveries we refused; processed, duplicate and ignored rows
# are genuine deliveries and are kept.
REFUSED = (Status.REJECTED, Status.FAILED)


def max_body_bytes() -> int:
    return int(settings.WEBHOOK_MAX_BODY_BYTES)


def declared_size(meta: Mapping[str, Any]) -> int:
    """The body size a WSGI/Django request declares (Content-Length; 0 when absent or unreadable)."""
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except (TypeError, ValueError):
        return 0


def retry_after(error: Exception) -> int | None:
    """The Retry-After (seconds) a refusal is answered with, if any."""
    return error.retry_after if isinstance(error, TooManyRefusals) else None


def payload_too_large(size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body ({size} bytes) is larger than a webhook delivery can be ({max_body_bytes()} bytes); it was not stored."
    )


def _window() -> int:
    return max(1, int(settings.WEBHOOK_REFUSAL_WINDOW_SECONDS))


def _key(address: str, bucket: int) -> str:
    return f"webhook-refusals:{address}:{bucket}"


def _bucket(now: float) -> int:
    return int(now // _window())


def refusals_retry_after(*, addresses: Iterable[str | None], now: float | None = None) -> dict[str, int]:
    """For each address over its limit of refusals in the current window,
    the seconds until the window ends. Fails open: {} when the cache fails."""
    limit = int(settings.WEBHOOK_REFUSALS_PER_WINDOW)
    wanted = {a for a in addresses if a}
    if not wanted or limit <= 0:
        return {}
    now = time.time() if now is None else now
    bucket = _bucket(now)
    if not REDIS.closed():
        return {}  # the cache failed a moment ago: not limiting
    try:
        counts = cache.get_many([_key(a, bucket) for a in wanted])
    except Exception as exc:
        REDIS.trip(exc, "webhook refusal counts unreadable, not limiting")
        return {}
    retry_after = max(1, math.ceil((bucket + 1) * _window() - now))
    return {a: retry_after for a in wanted if int(counts.get(_key(a, bucket)) or 0) >= limit}


def refusals_count(*, addresses: Iterable[str | None], now: float | None = None) -> None:
    """Count one refused delivery per occurrence of an address."""
    counts = Counter(a for a in addresses if a)
    if not counts or int(settings.WEBHOOK_REFUSALS_PER_WINDOW) <= 0:
        return
    bucket = _bucket(time.time() if now is None else now)
    if not REDIS.closed():
        return
    for address, n in counts.items():
        key = _key(address, bucket)
        try:
            # add() starts the count with the window's lifetime; incr() is atomic in Redis.
            if not cache.add(key, n, timeout=_window() + 60):
                cache.incr(key, n)
        except ValueError:  # expired between add and incr
            cache.add(key, n, timeout=_window() + 60)
        except Exception as exc:
            REDIS.trip(exc, f"webhook refusal from {address} not counted")
            return


def too_many_refusals(retry_after: int) -> TooManyRefusals:
    return TooManyRefusals(
        "Too many deliveries from this address were refused; this one was not stored. "
        f"Try again in {retry_after} seconds.",
        retry_after=retry_after,
    )


def webhook_deliveries_purge_refused(
    *, older_than_days: int | None = None, batch_size: int = 1000, max_batches: int = 100
) -> int:
    """Delete refused deliveries (rejected, or failed without a payment)
    older than ``WEBHOOK_REFUSED_RETENTION_DAYS``, ``batch_size`` rows per
    statement and at most ``max_batches`` statements per run (the next run
    goes on). Returns how many were deleted."""
    days = settings.WEBHOOK_REFUSED_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - dt.timedelta(days=days)
    old = WebhookDelivery.objects.filter(status__in=REFUSED, payment__isnull=True, received_at__lt=cutoff)
    deleted = 0
    for _ in range(max_batches):
        ids = list(old.order_by("received_at").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
    return deleted
