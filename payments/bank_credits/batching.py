"""Many bank-credit deliveries at once: the intake lane's batches.

The steps and guarantees are those of ``payments.bank_credits.ingest``,
delivery by delivery (see the comment below for how).
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from common.database import database_unavailable
from payments.bank_credits import bulk_sql, credit_payment, ingest
from payments.bank_credits import webhook_limits as limits
from payments.bank_credits.attribution import candidates, decide, lookup
from payments.bank_credits.providers.base import BankCredit, WebhookError, storable
from payments.models import Payment, WebhookDelivery
from payments.receipts.publish import publish_payments_on_commit

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# --- many deliveries at once -------------------------------------------------------------
#
# The intake lane (``payments.bank_credits.intake``) hands over every delivery that
# arrived while the previous batch was being written. On PostgreSQL the common
# case costs two statements per batch, whatever its size, instead of three round
# trips and a WAL flush per delivery: at a rush hour most of the work of
# recording a payment is per-statement and per-commit overhead. The steps and
# guarantees are those of ``payments.bank_credits.ingest.webhook_ingest``,
# delivery by delivery:
#
# 1. each delivery is parsed and its signature checked in Python (no database);
#    only the addresses of deliveries that failed verification are looked up
#    in the refusal counts (webhook_limits: a delivery that verifies is never
#    limited), so the common case does not touch the cache at all;
# 2. the vendors and sale requests that any credit could name are read in one
#    round trip, and each credit is attributed by the same rules;
# 3. ONE self-committing statement (synchronous commit: nobody is answered
#    before it is on disk) inserts the plain credits' payments (nothing to
#    settle or flag, first of their (source, provider_txn_id) in the batch)
#    with ``ON CONFLICT DO NOTHING``, and stores every delivery — as it
#    arrived (credentials redacted), with its outcome: processed with its
#    payment, refused, ignored or failed with the reason. Nothing is answered
#    before this commit, so storing each delivery together with its outcome
#    keeps the single path's promise (every delivery answered is on disk,
#    whatever it was) while writing each row once instead of inserting and
#    then updating it. Payments go in sorted by (source, provider_txn_id), so
#    two batches waiting on each other's keys always wait in the same order
#    and cannot deadlock;
# 4. everything else — a sale to settle, a flag for the board, a credit the
#    table already holds (a retry, a replay, a concurrent twin) — is stored as
#    received by that statement and then takes ``ingest.payment_record_credit``
#    one by one, exactly as a single delivery would.
#
# If the statement fails (a value the table refuses, say), it has written
# nothing, and every delivery of the batch takes the single path
# (``ingest.webhook_ingest``: stored raw first, then verified and recorded), so
# one bad delivery never costs the others their answer.


@dataclass(frozen=True, slots=True)  # slots: half the cost of making one (one per delivery)
class Delivery:
    """One webhook request as the intake lane received it."""

    provider: ModuleType
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str | None = None


Outcome = ingest.Outcome


def _ingest_one(delivery: Delivery, now: dt.datetime) -> Outcome:
    try:
        return ingest.webhook_ingest(
            provider=delivery.provider,
            headers=delivery.headers,
            body=delivery.body,
            remote_addr=delivery.remote_addr,
            now=now,
        )
    except Exception as exc:  # the caller answers it (a WebhookError) or reports it (anything else)
        return exc


def _batchable() -> bool:
    db = connections[DEFAULT_DB_ALIAS]
    return db.vendor == "postgresql" and not db.in_atomic_block


@dataclass
class _Stored:
    """A delivery of the batch that is stored: its row, and what it brought."""

    index: int
    row: dict[str, Any]  # the delivery's fields, as ``ingest.raw_delivery_values`` gives them
    pk: int = 0  # given by the batch statement
    credit: BankCredit | None = None
    payment: Payment | None = None
    paid: dict[str, Any] | None = None  # the payment's fields, as ``credit_payment.payment_values`` gives them
    single: bool = False  # recorded afterwards by the single path


def _finished(row: dict[str, Any], status: str, *, txn_id: str = "", error: str = "") -> None:
    row.update(status=status, provider_txn_id=txn_id, error=storable(error))


def _store_and_record(stored: list[_Stored], now: dt.datetime) -> list[tuple[int, int | None]]:
    """The batch's statement (step 3): per stored delivery, its new id and its
    payment's new id (None when it brought none, or its payment was there)."""
    sql, pay_fields, del_fields = bulk_sql.store_and_record_sql()
    plain = sorted(
        (s for s in stored if s.paid is not None and s.credit is not None),
        key=lambda s: (s.credit.source, s.credit.provider_txn_id),  # type: ignore[union-attr]
    )
    pay_ord = {id(s): i for i, s in enumerate(plain)}
    moment = now.isoformat()  # recorded_at, updated_at, received_at, processed_at: formatted once
    payments = [
        bulk_sql.values_row(pay_fields, s.paid, now=moment, extra=(i,))  # type: ignore[arg-type]
        for i, s in enumerate(plain)
    ]
    for s in stored:
        if not s.single and s.row.get("status", Status.RECEIVED) != Status.RECEIVED:
            s.row["processed_at"] = moment
    deliveries = [
        bulk_sql.values_row(del_fields, s.row, now=moment, extra=(i, pay_ord.get(id(s)))) for i, s in enumerate(stored)
    ]
    with bulk_sql.bound_cursor() as cursor:
        cursor.execute(sql, [bulk_sql.rows_json(payments), bulk_sql.rows_json(deliveries)])
        return [(int(delivery_id), payment_id) for delivery_id, payment_id in cursor.fetchall()]


def _recorded(stored: list[_Stored], rows: list[tuple[int, int | None]]) -> None:
    """Give each row and payment the id the statement gave it; a plain credit
    whose payment was already there goes to the single path."""
    inserted: list[Payment] = []
    for s, (delivery_id, payment_id) in zip(stored, rows, strict=True):
        s.pk = delivery_id
        if s.payment is None:
            continue
        if payment_id is None:  # already in the table: stored as received, the single path decides
            s.single = True
            continue
        bulk_sql.inserted(s.payment, (payment_id,))
        inserted.append(s.payment)
    publish_payments_on_commit(inserted)  # the statement committed on its own: published at once


def _verified(d: Delivery, now: dt.datetime) -> BankCredit | Exception:
    try:
        return ingest.verified_credit(provider=d.provider, headers=d.headers, body=d.body, now=now)
    except Exception as exc:  # kept on the delivery's row (FAILED) and answered 500, as alone
        return exc


def webhook_ingest_batch(deliveries: list[Delivery], *, now: dt.datetime | None = None) -> list[Outcome]:
    """Verify, store and record ``deliveries``: for each, the ``ingest.IngestResult``
    or the exception that ``ingest.webhook_ingest`` would give for it alone (see the
    comment at the top for how). Outside PostgreSQL, or inside a caller's
    transaction, simply ``ingest.webhook_ingest`` one by one."""
    now = now or timezone.now()
    if not deliveries:
        return []
    if not _batchable():
        return [_ingest_one(d, now) for d in deliveries]

    outcomes: list[Outcome | None] = [None] * len(deliveries)
    # 1. verify; a body over the cap is refused unread and not stored (webhook_limits)
    checked: list[tuple[int, BankCredit | Exception]] = []
    for i, d in enumerate(deliveries):
        if len(d.body) > limits.max_body_bytes():
            outcomes[i] = ingest.webhook_refuse_oversized(
                provider=d.provider, size=len(d.body), remote_addr=d.remote_addr
            )
        else:
            checked.append((i, _verified(d, now)))
    unverified = [deliveries[i].remote_addr for i, r in checked if isinstance(r, WebhookError) and ingest.refusing(r)]
    limited = limits.refusals_retry_after(addresses=unverified)  # no cache read when every delivery verified

    stored: list[_Stored] = []
    refused_from: list[str | None] = []
    for i, result in checked:
        d = deliveries[i]
        if isinstance(result, WebhookError) and ingest.refusing(result) and limited.get(d.remote_addr or ""):
            outcomes[i] = limits.too_many_refusals(limited[d.remote_addr or ""])  # not stored
            continue
        row = ingest.raw_delivery_values(
            source=d.provider.SOURCE, headers=d.headers, body=d.body, remote_addr=d.remote_addr
        )
        entry = _Stored(i, row)
        stored.append(entry)
        if isinstance(result, WebhookError):
            _finished(row, ingest.refused_status(result), error=f"{result.code}: {result.message}")
            outcomes[i] = result
            if ingest.refusing(result):
                refused_from.append(d.remote_addr)
        elif isinstance(result, Exception):
            error = "".join(traceback.format_exception(result))
            _finished(row, Status.FAILED, error=error)
            outcomes[i] = result
        elif result.direction != "in" or result.ignore_reason:
            _finished(row, Status.IGNORED, txn_id=result.provider_txn_id, error=result.ignore_reason)
        else:
            entry.credit = result

    # 2. attribute (the payments' recorded_at, the rows' received_at and processed_at: one moment)
    written = timezone.now()
    credits = [s for s in stored if s.credit is not None]
    wanted = [
        candidates(
            content=s.credit.content,  # type: ignore[union-attr]
            extra_text=s.credit.extra_text,  # type: ignore[union-attr]
            account_number=s.credit.account_number,  # type: ignore[union-attr]
            sub_account=s.credit.sub_account,  # type: ignore[union-attr]
        )
        for s in credits
    ]
    found = lookup(wanted)  # no query at all when there is no credit
    keys: set[tuple[str, str]] = set()
    for s, want in zip(credits, wanted, strict=True):
        credit = s.credit
        assert credit is not None
        key = (credit.source, credit.provider_txn_id)
        request_rows, vendor_rows = found.named_by(want)
        try:
            decision = decide(
                want, amount=credit.amount, bank=credit.bank, request_rows=request_rows, vendor_rows=vendor_rows
            )
        except Exception:
            s.single = True  # it fails there as it would alone, and is kept on its row
            continue
        if decision.flags or credit.unreadable_time or decision.settles_request or key in keys:
            s.single = True
            continue
        keys.add(key)
        # Not validated field by field: a value the table refuses fails the
        # statement, and then each delivery takes the single path, which validates.
        s.paid = credit_payment.payment_values(credit, decision)
        s.payment = credit_payment.payment_from(s.paid)
        s.payment.recorded_at = s.payment.updated_at = written  # the row's auto_now columns get the same (now=)
        _finished(s.row, Status.PROCESSED, txn_id=credit.provider_txn_id)

    # 3. one statement: the plain credits' payments and every delivery with its outcome
    try:
        rows = _store_and_record(stored, written) if stored else []
    except Exception as exc:
        if database_unavailable(exc):  # nothing written; the lane answers 503 and the providers retry
            for s in stored:
                outcomes[s.index] = exc
            return [o if o is not None else exc for o in outcomes]
        logger.exception(
            "a batch of %d webhook deliveries could not be written together; taking them one by one", len(stored)
        )
        for s in stored:
            outcomes[s.index] = _ingest_one(deliveries[s.index], now)
        return [o if o is not None else RuntimeError("delivery left without an outcome") for o in outcomes]
    _recorded(stored, rows)  # committed: from here on, nothing is written twice
    limits.refusals_count(addresses=refused_from)
    for s in stored:
        known = outcomes[s.index]
        if isinstance(known, Exception) and not isinstance(known, WebhookError):
            logger.error("webhook delivery %s (%s) failed", s.pk, deliveries[s.index].provider.SOURCE, exc_info=known)
        elif known is None and not s.single and s.credit is None:  # ignored
            outcomes[s.index] = ingest.IngestResult(s.pk, Status.IGNORED, None)
        elif known is None and not s.single:
            outcomes[s.index] = ingest.IngestResult(s.pk, Status.PROCESSED, s.payment)

    # 4. the rest, one by one, exactly as a single delivery
    for s in stored:
        if not s.single or s.credit is None:
            continue
        try:
            payment, created = ingest.payment_record_credit(credit=s.credit, delivery_id=s.pk)
        except Exception as exc:
            logger.exception("webhook delivery %s (%s) failed", s.pk, s.credit.source)
            try:
                bulk_sql.finish(s.pk, Status.FAILED, txn_id=s.credit.provider_txn_id, error=traceback.format_exc())
            except Exception:
                logger.exception("could not mark webhook delivery %s as failed", s.pk)
            outcomes[s.index] = exc
            continue
        outcomes[s.index] = ingest.IngestResult(s.pk, Status.PROCESSED if created else Status.DUPLICATE, payment)
    return [o if o is not None else RuntimeError("delivery left without an outcome") for o in outcomes]
