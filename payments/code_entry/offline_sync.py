"""The offline-sync upload, set-based: one transaction per request.

``offline_confirmations_sync`` gives every item the outcome the per-item path
(``offline.offline_confirmation_record``: one transaction per item) would give it, item
after item in upload order, but with a fixed number of queries per request:

1. the vendor row is locked (``SELECT … FOR UPDATE``) for the whole request,
   which serialises it with every other writer of the vendor's codes and
   attempts (online confirmation, another upload, the reconciliation, a new
   code-entry payment advancing the counter);
2. one query each reads, after the lock: the offline confirmations already
   stored under the items' client UUIDs, the vendor's failed attempts in the
   wrong-code window, and the vendor's codes the items could be (the
   candidates ``find_code`` would try, for the items' amounts);
3. every item is decided in memory in upload order — a code used by an
   earlier item of the request is "used" for a later one, each failure counts
   toward the limit for the items after it, a client UUID repeated in the
   request answers like a retry;
4. the rows are written in bulk: the offline confirmations (with their final
   status), the codes marked used (conditional UPDATE), the payments marked
   vendor-confirmed, their ``vendor_confirmed`` events, the attempts.

Anything this path does not expect — a client UUID inserted meanwhile by
another vendor (the unique index refuses the INSERT), a code found used by
the conditional UPDATE, more candidate codes than it reads at once, a row that
fails validation, any database error — rolls the whole request back and the
request is decided by the per-item path instead, which handles each of those
as it always has. So the per-item path remains the definition of the outcome;
this is a faster way to reach the same one.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from typing import Final

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.utils import timezone

from chopay import codes
from payments.code_entry.confirmation import (
    CODE_LOOKBACK,
    CODE_MAX_CANDIDATES,
    CONFIRM_MAX_FAILURES,
    CONFIRM_WINDOW,
    Match,
    lock_vendor,
)
from payments.code_entry.offline import (
    CLOCK_SKEW,
    EARLIEST_CAPTURE,
    THROTTLED_UNCHECKED,
    OfflineItem,
    OfflineItemResult,
    Uploader,
    item_error,
    item_result,
    offline_confirmation_record,
    same_item,
)
from payments.models import ConfirmationAttempt, ConfirmationCode, OfflineConfirmation, Payment, PaymentEvent
from vendors.models import Vendor

logger = logging.getLogger(__name__)

# Candidate codes read in one query; a request needing more (a vendor with
# very many codes of the uploaded amounts in the look-back) takes the per-item path.
PREFETCH_MAX_CODES: Final = 20_000


class _Fallback(Exception):
    """The set-based path met a case it leaves to the per-item path."""


def offline_confirmations_sync(
    *,
    vendor: Vendor,
    items: list[OfflineItem | OfflineItemResult],
    now: dt.datetime | None = None,
    uploader: Uploader | None = None,
) -> list[OfflineItemResult]:
    """Record confirmations a device verified offline; idempotent per client UUID.

    ``items`` may hold per-item validation errors already (from the API); they
    are passed through in place so that results line up with the upload.

    Each new item is checked against the vendor's codes as one confirmation
    attempt, under the same limit as online confirmation (5 failures per 15
    minutes, counted in ``ConfirmationAttempt``): a token holder cannot guess
    codes faster here than at ``/confirm/``. An item uploaded over the limit
    is never lost: it is kept pending, unchecked (``flag_reason``
    "throttled"), and the reconciliation checks it when the limit allows.
    """
    now = now or timezone.now()
    uploader = uploader or Uploader()
    deadline = dt.timedelta(seconds=settings.OFFLINE_CONFIRMATION_DEADLINE_SECONDS)
    results: list[OfflineItemResult | None] = []
    todo: list[tuple[int, OfflineItem]] = []
    for item in items:
        if isinstance(item, OfflineItemResult):
            results.append(item)
        elif item.captured_at > now + CLOCK_SKEW:
            results.append(item_error(str(item.client_uuid), "invalid_captured_at", "captured_at is in the future."))
        elif item.captured_at < EARLIEST_CAPTURE:
            results.append(item_error(str(item.client_uuid), "invalid_captured_at", "captured_at is before 2020."))
        else:
            todo.append((len(results), item))
            results.append(None)
    if todo:
        new = [item for _, item in todo]
        try:
            with transaction.atomic():
                decided = _sync_batch(vendor=vendor, items=new, now=now, deadline=deadline, uploader=uploader)
        except (_Fallback, DatabaseError) as exc:
            level = logging.INFO if isinstance(exc, _Fallback) else logging.WARNING
            logger.log(level, "offline sync of vendor %s item by item: %r", vendor.pk, exc)
            decided = [
                offline_confirmation_record(vendor=vendor, item=item, now=now, deadline=deadline, uploader=uploader)
                for item in new
            ]
        for (index, _), result in zip(todo, decided, strict=True):
            results[index] = result
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


class _Codes:
    """The vendor's codes the items could be, read in one query; ``find`` is ``find_code`` in memory."""

    def __init__(self, vendor: Vendor, items: list[OfflineItem]) -> None:
        self.key = codes.key_from_hex(vendor.code_secret)
        self.by_amount: dict[int, list[ConfirmationCode]] = defaultdict(list)
        wanted = [item for item in items if codes.is_well_formed(item.code)]
        if not wanted:
            return
        since = min(item.captured_at for item in wanted) - CODE_LOOKBACK
        rows = list(
            ConfirmationCode.objects.filter(
                vendor=vendor,
                payment__status=Payment.Status.SUCCEEDED,
                expires_at__gt=since,
                payment__amount__in={item.amount for item in wanted},
            )
            .only("id", "counter", "expires_at", "used_at", "payment_id")
            .annotate(paid=F("payment__amount"))
            .order_by("-counter")[: PREFETCH_MAX_CODES + 1]
        )
        if len(rows) > PREFETCH_MAX_CODES:
            raise _Fallback(f"more than {PREFETCH_MAX_CODES} candidate codes")
        for row in rows:
            self.by_amount[row.paid].append(row)  # type: ignore[attr-defined]  # annotated

    def find(self, *, code: str, amount: int, at: dt.datetime) -> tuple[ConfirmationCode, Match] | None:
        """What ``confirmation.find_code`` answers for the same code, amount and moment."""
        if not codes.is_well_formed(code):
            return None
        found: list[tuple[ConfirmationCode, Match]] = []
        tried = 0
        for candidate in self.by_amount.get(amount, ()):  # newest counter first
            if candidate.expires_at <= at - CODE_LOOKBACK:
                continue
            tried += 1
            if tried > CODE_MAX_CANDIDATES:
                break
            if codes.code_matches(self.key, code, counter=candidate.counter, amount=amount):
                if candidate.used_at is not None:
                    found.append((candidate, "used"))
                elif candidate.expires_at <= at:
                    found.append((candidate, "expired"))
                else:
                    return candidate, "ok"
        return found[0] if found else None


def _sync_batch(
    *, vendor: Vendor, items: list[OfflineItem], now: dt.datetime, deadline: dt.timedelta, uploader: Uploader
) -> list[OfflineItemResult]:
    """Decide and write every item in the current transaction (see the module's docstring)."""
    Outcome = ConfirmationAttempt.Outcome
    locked = lock_vendor(vendor.pk)
    known: dict[uuid.UUID, OfflineConfirmation] = {
        row.client_uuid: row
        for row in OfflineConfirmation.objects.filter(client_uuid__in={item.client_uuid for item in items})
    }
    # The count throttle_retry_after reads; this request's own failures are added as they happen
    # (they count if their created_at, the clock at insert, is inside the window that ``now`` opens).
    failures = (
        ConfirmationAttempt.objects.filter(vendor_id=locked.pk, succeeded=False, created_at__gt=now - CONFIRM_WINDOW)
        .exclude(outcome=Outcome.THROTTLED)
        .count()
    )
    new_failures_count = timezone.now() > now - CONFIRM_WINDOW
    candidates = _Codes(locked, [item for item in items if item.client_uuid not in known])

    results: list[OfflineItemResult] = []
    rows: list[OfflineConfirmation] = []
    attempts: list[ConfirmationAttempt] = []
    used: list[tuple[ConfirmationCode, OfflineConfirmation]] = []
    for item in items:
        existing = known.get(item.client_uuid)
        if existing is not None:  # stored before, or earlier in this request: a retry
            if same_item(existing, locked, item):
                results.append(item_result(existing))
            else:
                results.append(
                    item_error(
                        str(item.client_uuid),
                        "uuid_conflict",
                        "This client_uuid was already used for a different confirmation.",
                    )
                )
            continue
        row = OfflineConfirmation(
            client_uuid=item.client_uuid,
            vendor=locked,
            code=item.code,
            amount=item.amount,
            captured_at=item.captured_at,
            reconcile_by=item.captured_at + deadline,
        )
        try:
            row.full_clean(exclude=["vendor"], validate_unique=False)  # the vendor is the locked row
        except ValidationError as exc:
            raise _Fallback(f"item {item.client_uuid} invalid") from exc
        known[item.client_uuid] = row
        rows.append(row)
        attempt = ConfirmationAttempt(
            vendor=locked,
            user=uploader.user,
            code_tail=codes.code_tail(item.code),
            amount=item.amount,
            remote_addr=uploader.remote_addr,
        )
        attempts.append(attempt)
        if failures >= CONFIRM_MAX_FAILURES:  # over the limit: kept, unchecked
            attempt.outcome = Outcome.THROTTLED
            if row.reconcile_by <= now:
                row.status, row.flag_reason = OfflineConfirmation.Status.FLAGGED, "too_many_wrong_codes"
            else:
                row.flag_reason = THROTTLED_UNCHECKED
            results.append(item_result(row))
            continue
        found = candidates.find(code=item.code, amount=item.amount, at=item.captured_at)
        if found is None:
            attempt.outcome = Outcome.WRONG
            if row.reconcile_by <= now:
                row.status, row.flag_reason = OfflineConfirmation.Status.FLAGGED, "no_matching_payment"
        else:
            code_row, match = found
            attempt.payment_id = row.payment_id = code_row.payment_id
            if match == "ok":
                code_row.used_at = now  # a later item of this request finds it used
                used.append((code_row, row))
                attempt.outcome = Outcome.CONFIRMED
                row.status = OfflineConfirmation.Status.MATCHED
            else:
                attempt.outcome = Outcome.USED if match == "used" else Outcome.EXPIRED
                row.status = OfflineConfirmation.Status.FLAGGED
                row.flag_reason = "code_already_used" if match == "used" else "code_expired"
        attempt.succeeded = attempt.outcome == Outcome.CONFIRMED
        if not attempt.succeeded and new_failures_count:
            failures += 1
        results.append(item_result(row))

    _write(rows=rows, attempts=attempts, used=used, now=now)
    return results


def _write(
    *,
    rows: list[OfflineConfirmation],
    attempts: list[ConfirmationAttempt],
    used: list[tuple[ConfirmationCode, OfflineConfirmation]],
    now: dt.datetime,
) -> None:
    # First the rows: a client UUID another vendor stored meanwhile fails this INSERT (→ per-item path).
    OfflineConfirmation.objects.bulk_create(rows)
    if used:
        code_ids = [code.pk for code, _ in used]
        marked = ConfirmationCode.objects.filter(pk__in=code_ids, used_at__isnull=True).update(used_at=now)
        if marked != len(code_ids):  # cannot happen under the vendor lock; the per-item path would say "used"
            raise _Fallback("a code was used meanwhile")
        confirmed_at = Case(
            *(When(pk=code.payment_id, then=Value(row.captured_at)) for code, row in used),
            output_field=DateTimeField(),
        )
        Payment.objects.filter(pk__in=[code.payment_id for code, _ in used], vendor_confirmed_at__isnull=True).update(
            vendor_confirmed_at=confirmed_at, updated_at=now
        )
        PaymentEvent.objects.bulk_create(
            PaymentEvent(
                payment_id=code.payment_id,
                kind="vendor_confirmed",
                data={"via": "offline", "client_uuid": str(row.client_uuid)},
            )
            for code, row in used
        )
    ConfirmationAttempt.objects.bulk_create(attempts)
