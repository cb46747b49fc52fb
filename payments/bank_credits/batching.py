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

from payments.bank_credits import bulk_sql, ingest
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
# case costs a fixed number of statements per batch instead of three round
# trips and a WAL flush per delivery: at a rush hour most of the work of
# recording a payment is per-statement and per-commit overhead, so a batch of
# fifty costs little more than one. The steps and guarantees are those of
# ``payments.bank_credits.ingest.webhook_ingest``, delivery by delivery:
#
# 1. every delivery is stored raw before anything is trusted (one INSERT for
#    the batch, committed without waiting for its own flush, as above);
# 2. each is parsed and its signature checked in Python; refusals are answered
#    as the single path answers them and kept on their rows;
# 3. the vendors and sale requests that any credit could name are read in one
#    round trip, and each credit is attributed by the same rules;
# 4. the plain credits (nothing to settle or flag, first of their
#    (source, provider_txn_id) in the batch) are inserted with ``ON CONFLICT
#    DO NOTHING`` and their deliveries finished, and the refused and ignored
#    deliveries finished, in ONE self-committing statement (synchronous
#    commit: nobody is answered before the payments are on disk). Rows go in
#    sorted by (source, provider_txn_id), so two batches waiting on each
#    other's keys always wait in the same order and cannot deadlock;
# 5. everything else — a sale to settle, a flag for the board, a credit the
#    table already holds (a retry, a replay, a concurrent twin) — takes
#    ``ingest.payment_record_credit`` one by one, exactly as a single delivery would.
#
# If the batch statement fails, each of its credits is retried alone through
# step 5, so one bad delivery never costs the others their answer.


@dataclass(frozen=True)
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
class _Pending:
    index: int
    delivery_id: int
    credit: BankCredit
    payment: Payment | None = None


def _record_many(plain: list[_Pending], finishes: list[tuple[int, str, str, str]], now: dt.datetime) -> set[int]:
    """Insert the plain credits' payments (unless their key exists), finish
    their deliveries and the ``finishes`` (delivery id, status, txn id,
    error), in one self-committing statement; the ids of the deliveries whose
    payment was inserted."""
    sql, fields = bulk_sql.record_many_sql()
    plain = sorted(plain, key=lambda p: (p.credit.source, p.credit.provider_txn_id))
    rows = [
        bulk_sql.as_row(p.payment, fields, delivery=p.delivery_id, ord=i)
        for i, p in enumerate(plain)
        if p.payment is not None
    ]
    outcomes = [{"id": d, "status": status, "txn_id": txn, "error": error} for d, status, txn, error in finishes]
    params: list[Any] = [bulk_sql.rows_json(rows), Status.PROCESSED, now, now, bulk_sql.rows_json(outcomes)]
    with bulk_sql.bound_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    recorded = {int(delivery): payment_id for delivery, payment_id in rows}
    inserted: list[Payment] = []
    for p in plain:
        if p.delivery_id in recorded and p.payment is not None:
            bulk_sql.inserted(p.payment, (recorded[p.delivery_id],))
            inserted.append(p.payment)
    publish_payments_on_commit(inserted)  # the statement committed on its own: published at once
    return set(recorded)


def webhook_ingest_batch(deliveries: list[Delivery], *, now: dt.datetime | None = None) -> list[Outcome]:
    """Store, verify and record ``deliveries``: for each, the ``ingest.IngestResult``
    or the exception that ``ingest.webhook_ingest`` would give for it alone (see the
    comment at the top for how). Outside PostgreSQL, or inside a caller's
    transaction, simply ``ingest.webhook_ingest`` one by one."""
    now = now or timezone.now()
    if not deliveries:
        return []
    if not _batchable():
        return [_ingest_one(d, now) for d in deliveries]

    outcomes: list[Outcome | None] = [None] * len(deliveries)
    # 0. what is not stored at all (webhook_limits): a body over the cap, and an
    # unverifiable delivery from an address over its refusal limit.
    kept: list[int] = []
    limited = limits.refusals_retry_after(addresses=(d.remote_addr for d in deliveries))
    for i, d in enumerate(deliveries):
        if len(d.body) > limits.max_body_bytes():
            outcomes[i] = ingest.webhook_refuse_oversized(
                provider=d.provider, size=len(d.body), remote_addr=d.remote_addr
            )
            continue
        retry_after = limited.get(d.remote_addr or "")
        refusal = retry_after and ingest.refusal_if_limited(
            provider=d.provider, headers=d.headers, body=d.body, now=now, retry_after=retry_after
        )
        if refusal:
            outcomes[i] = refusal
            continue
        kept.append(i)

    # 1. store raw. No per-field validation here: the table's own types and
    # limits refuse a bad row (say an address that is no IP address), and then
    # every delivery goes the single way, which validates and answers as it would.
    rows = [
        (i, ingest.raw_delivery(source=d.provider.SOURCE, headers=d.headers, body=d.body, remote_addr=d.remote_addr))
        for i, d in ((i, deliveries[i]) for i in kept)
    ]
    try:
        bulk_sql.webhook_deliveries_store([row for _, row in rows])
    except Exception:
        logger.warning(
            "a batch of %d webhook deliveries could not be stored together; storing them one by one",
            len(rows),
            exc_info=True,
        )
        for i in kept:
            outcomes[i] = _ingest_one(deliveries[i], now)
        return [o if o is not None else RuntimeError("delivery left without an outcome") for o in outcomes]

    # 2. parse and verify
    finishes: list[tuple[int, str, str, str]] = []
    credits: list[_Pending] = []
    refused_from: list[str | None] = []
    for i, row in rows:
        d = deliveries[i]
        try:
            credit = ingest.verified_credit(provider=d.provider, headers=d.headers, body=d.body, now=now)
        except WebhookError as exc:
            finishes.append((row.pk, ingest.refused_status(exc), "", storable(f"{exc.code}: {exc.message}")))
            outcomes[i] = exc
            if ingest.refusing(exc):
                refused_from.append(d.remote_addr)
            continue
        except Exception as exc:
            logger.exception("webhook delivery %s (%s) failed", row.pk, d.provider.SOURCE)
            finishes.append((row.pk, Status.FAILED, "", storable(traceback.format_exc())))
            outcomes[i] = exc
            continue
        if credit.direction != "in" or credit.ignore_reason:
            finishes.append((row.pk, Status.IGNORED, credit.provider_txn_id, credit.ignore_reason))
            outcomes[i] = ingest.IngestResult(row.pk, Status.IGNORED, None)
            continue
        credits.append(_Pending(i, row.pk, credit))
    limits.refusals_count(addresses=refused_from)

    # 3. attribute
    plain: list[_Pending] = []
    one_by_one: list[_Pending] = []
    wanted = [
        candidates(
            content=p.credit.content,
            extra_text=p.credit.extra_text,
            account_number=p.credit.account_number,
            sub_account=p.credit.sub_account,
        )
        for p in credits
    ]
    found = lookup(wanted)  # no query at all when there is no credit
    keys: set[tuple[str, str]] = set()
    for p, want in zip(credits, wanted, strict=True):
        key = (p.credit.source, p.credit.provider_txn_id)
        request_rows, vendor_rows = found.named_by(want)
        try:
            decision = decide(
                want, amount=p.credit.amount, bank=p.credit.bank, request_rows=request_rows, vendor_rows=vendor_rows
            )
        except Exception:
            one_by_one.append(p)  # it fails there as it would alone, and is kept on its row
            continue
        if decision.flags or p.credit.unreadable_time or decision.settles_request or key in keys:
            one_by_one.append(p)
            continue
        keys.add(key)
        # Not validated field by field either: a value the table refuses fails
        # the batch statement, and step 5 then validates each credit alone.
        p.payment = ingest.new_payment(p.credit, decision)
        plain.append(p)

    # 4. the plain credits and every outcome known so far, in one statement
    if plain or finishes:
        try:
            recorded = _record_many(plain, finishes, timezone.now())
        except Exception:
            logger.exception("a batch of %d webhook deliveries failed as a whole; recording them one by one", len(rows))
            for delivery_id, status, txn_id, error in finishes:
                bulk_sql.finish(delivery_id, status, txn_id=txn_id, error=error)
            recorded = set()
        for p in plain:
            if p.delivery_id in recorded:
                outcomes[p.index] = ingest.IngestResult(p.delivery_id, Status.PROCESSED, p.payment)
            else:
                one_by_one.append(p)  # already in the table (or the batch failed): the single path decides

    # 5. the rest, one by one, exactly as a single delivery
    for p in one_by_one:
        try:
            payment, created = ingest.payment_record_credit(credit=p.credit, delivery_id=p.delivery_id)
        except Exception as exc:
            logger.exception("webhook delivery %s (%s) failed", p.delivery_id, p.credit.source)
            try:
                bulk_sql.finish(
                    p.delivery_id, Status.FAILED, txn_id=p.credit.provider_txn_id, error=traceback.format_exc()
                )
            except Exception:
                logger.exception("could not mark webhook delivery %s as failed", p.delivery_id)
            outcomes[p.index] = exc
            continue
        outcomes[p.index] = ingest.IngestResult(
            p.delivery_id, Status.PROCESSED if created else Status.DUPLICATE, payment
        )
    return [o if o is not None else RuntimeError("delivery left without an outcome") for o in outcomes]
