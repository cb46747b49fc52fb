"""Bank-credit webhooks in: store the raw delivery, verify it, record the
payment exactly once.

The order is dj-stripe's: the request is written to ``WebhookDelivery`` before
anything is trusted (so a forged, broken or crashing delivery is still there
to look at), then the provider's signature is checked, then the payment is
recorded and the delivery row is updated in the same transaction — on
PostgreSQL, in the common case (no sale to settle, nothing to flag), as one
self-committing statement. A failure is kept on the delivery row.

Round trips per delivery on PostgreSQL: store the delivery (1), look up the
vendor or sale (1), record the payment and the outcome (1); plus Django's
``SELECT 1`` when DB_CONN_HEALTH_CHECKS is on.

Exactly once: ``Payment`` has a unique constraint on (source,
provider_txn_id), and the payment is written with ``INSERT … ON CONFLICT
(source, provider_txn_id) DO NOTHING RETURNING id``: there is no "check then
insert" window. Two identical deliveries racing each other meet at the
constraint: on PostgreSQL the second INSERT waits for the first transaction,
then inserts nothing; the second delivery reads the winner's row, is marked
``duplicate`` and answers success (so the provider stops retrying).

Nothing here talks to Redis or Celery: a broker outage cannot block or lose a
payment. Work derived from payments is picked up from the database.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import functools
import ipaddress
import json
import logging
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone

from payments.models import Payment, PaymentEvent, TransitionError, WebhookDelivery, local_date
from payments.services import webhook_limits as limits
from payments.services.attribution import Attribution, Flag, attribute, candidates, decide, lookup
from payments.webhooks.base import (
    BankCredit,
    MalformedPayload,
    NotConfigured,
    TooManyRefusals,
    WebhookError,
    load_json,
    storable,
)

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

# Never keep a credential in the database, even a wrong one.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class IngestResult:
    delivery_id: int
    status: str  # processed, duplicate or ignored
    payment: Payment | None


# --- storing -----------------------------------------------------------------------


def _headers_to_store(headers: Mapping[str, str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            kept[storable(name)] = storable(f"{scheme} [redacted]".strip())
        else:
            kept[storable(name)] = storable(value)  # jsonb has no NUL either
    return kept


def _body_to_store(body: bytes) -> tuple[str, str]:
    """(text, encoding) that keeps ``body`` exactly: the text itself when it
    is UTF-8 without NUL (every real delivery), else its base64 with
    encoding "base64" (see ``WebhookDelivery.raw_body``)."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text, ""
    return base64.b64encode(body).decode("ascii"), "base64"


# The statements below run for every delivery, so they are written as SQL built
# once from the models' own field definitions (a new field with a default is
# picked up); on this project's 2-core servers Django's per-query compilation
# costs several times more CPU than PostgreSQL spends executing them.


def _bound_cursor() -> Any:
    """A cursor that sends parameters apart from the SQL (server-side binding)
    on PostgreSQL: psycopg then encodes them in one C call instead of quoting
    each one into the SQL text in Python — about a quarter of this module's
    CPU per delivery. Otherwise exactly ``connection.cursor()``: the same
    health check, error wrapping and query logging. (Django's default
    client-side binding stays for everything else, and for statements this
    cannot carry: several statements in one string.)"""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql" or db.settings_dict["OPTIONS"].get("server_side_binding"):
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]  # psycopg 3 only

    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(ServerBindingCursor(db.connection))  # type: ignore[attr-defined]


def _insert_sql(obj: models.Model, *, unless_exists: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """``INSERT … RETURNING pk`` for ``obj`` and its parameters; with
    ``unless_exists`` (the columns of a unique constraint) ``ON CONFLICT DO
    NOTHING``, which on PostgreSQL waits for a concurrent insert of the same
    key and then yields to it (and returns no row)."""
    sql, fields = _insert_statement(type(obj), unless_exists)
    db = connections[DEFAULT_DB_ALIAS]  # not the ``connection`` proxy: a lookup per use
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]


@functools.cache
def _insert_statement(model: type[models.Model], unless_exists: tuple[str, ...]) -> tuple[str, list[models.Field]]:
    meta = model._meta
    qn = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if unless_exists:
        sql += f" ON CONFLICT ({', '.join(qn(c) for c in unless_exists)}) DO NOTHING"
    return f"{sql} RETURNING {qn(meta.pk.column)}", fields


def _inserted(obj: models.Model, row: tuple[Any, ...] | None) -> int | None:
    """Give ``obj`` the primary key the INSERT returned (None: it inserted nothing)."""
    if row is None:
        return None
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return int(row[0])


def _insert(obj: models.Model, *, unless_exists: tuple[str, ...] = (), before: str = "") -> int | None:
    """INSERT ``obj`` and return its new primary key, or None when
    ``unless_exists`` found the row there (see ``_insert_sql``). ``before`` is
    a statement sent in the same round trip (PostgreSQL runs both in one
    implicit transaction)."""
    sql, values = _insert_sql(obj, unless_exists=unless_exists)
    with connection.cursor() as cursor:
        cursor.execute(f"{before}; {sql}" if before else sql, values)
        while cursor.description is None and cursor.nextset():
            pass  # skip the result of ``before``
        return _inserted(obj, cursor.fetchone())


def _raw_delivery(*, source: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None) -> WebhookDelivery:
    """The unsaved row of a delivery as it arrived (credentials redacted)."""
    text, encoding = _body_to_store(body)
    return WebhookDelivery(
        source=source,
        headers=_headers_to_store(headers),
        body=text,
        body_encoding=encoding,
        remote_addr=remote_addr or None,
    )


def webhook_delivery_store(
    *, source: str, headers: Mapping[str, str], body: bytes, remote_addr: str | None
) -> WebhookDelivery:
    """Write the delivery as it arrived, committed on its own, before any check."""
    delivery = _raw_delivery(source=source, headers=headers, body=body, remote_addr=remote_addr)
    delivery.clean_fields(exclude=["payment"])
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Committed on its own, without waiting for its own disk flush: the
        # payment's commit, which comes later and does wait, flushes the WAL up
        # to and including this row, and nobody is answered before that. A
        # crash in between loses only a delivery the provider will retry. One
        # WAL flush per delivery instead of two (this disk does ~300 a second),
        # and one round trip: the SET and the INSERT form one implicit transaction.
        _insert(delivery, before="SET LOCAL synchronous_commit TO OFF")
    else:
        _insert(delivery)  # inside a caller's transaction (tests): commits with it
    return delivery


_FINISH_SQL = (
    f'UPDATE "{WebhookDelivery._meta.db_table}" SET "status" = %s, "processed_at" = %s, '  # noqa: S608
    '"provider_txn_id" = %s, "payment_id" = %s, "error" = %s WHERE "id" = %s'
)


# _FINISH_SQL for the statement of ``_insert_and_finish``: the payment is the
# one its ``new`` CTE inserted, and nothing is updated when it inserted nothing.
_FINISH_WITH_NEW_SQL = (
    f'UPDATE "{WebhookDelivery._meta.db_table}" SET "status" = %s, "processed_at" = %s, '  # noqa: S608
    '"provider_txn_id" = %s, "payment_id" = (SELECT id FROM new), "error" = %s '
    'WHERE "id" = %s AND EXISTS (SELECT 1 FROM new)'
)


def _finish(delivery_id: int, status: str, *, txn_id: str = "", payment_id: int | None = None, error: str = "") -> None:
    with connection.cursor() as cursor:
        cursor.execute(_FINISH_SQL, [status, timezone.now(), txn_id, payment_id, storable(error), delivery_id])


def _insert_and_finish(payment: Payment, delivery_id: int) -> int | None:
    """On PostgreSQL outside any transaction: insert ``payment`` (unless its
    (source, provider_txn_id) exists) and mark the delivery processed with it,
    as ONE statement — atomic on its own (a data-modifying CTE) and committed
    synchronously, in one round trip instead of four (BEGIN, INSERT, UPDATE,
    COMMIT). Returns the new payment's id, or None when it existed (the
    delivery is then left untouched for the duplicate path)."""
    insert, values = _insert_sql(payment, unless_exists=("source", "provider_txn_id"))
    sql = f"WITH new AS ({insert}), finished AS ({_FINISH_WITH_NEW_SQL}) SELECT id FROM new"  # noqa: S608
    params = [*values, Status.PROCESSED, timezone.now(), payment.provider_txn_id, "", delivery_id]
    with _bound_cursor() as cursor:
        cursor.execute(sql, params)
        return _inserted(payment, cursor.fetchone())


# --- recording -----------------------------------------------------------------------


def _payer(credit: BankCredit) -> str:
    tail = credit.payer_account[-4:]
    masked = f"••••{tail}" if tail else ""
    return " ".join(part for part in (credit.payer_name, masked) if part)[:64]


def _new_payment(credit: BankCredit, decision: Attribution) -> Payment:
    return Payment(
        vendor_id=decision.vendor_id,
        market_id=decision.market_id,
        amount=credit.amount,
        channel=decision.channel,
        source=credit.source,
        provider_txn_id=credit.provider_txn_id,
        provider_reference=credit.provider_reference,
        status=Payment.Status.SUCCEEDED,  # a bank credit is money that has arrived
        attribution=decision.attribution,
        payment_request=decision.payment_request,
        amount_check=decision.amount_check,
        payer_masked=_payer(credit),
        receiving_account=credit.account_number,
        content=credit.content,
        occurred_at=credit.occurred_at,
        local_date=local_date(credit.occurred_at),
    )


def _credit_flags(credit: BankCredit) -> list[Flag]:
    """What the board must look at because of the delivery itself."""
    if credit.unreadable_time:
        return [Flag("unreadable_transaction_time", {"sent": credit.unreadable_time})]
    return []


def payment_record_credit(*, credit: BankCredit, delivery_id: int | None = None) -> tuple[Payment, bool]:
    """Record ``credit`` once. Returns ``(payment, created)``; when the same
    (source, provider_txn_id) was recorded before — by an earlier retry or by
    a concurrent identical delivery — returns that payment and ``False``."""
    decision = attribute(
        content=credit.content,
        extra_text=credit.extra_text,
        amount=credit.amount,
        account_number=credit.account_number,
        sub_account=credit.sub_account,
        bank=credit.bank,
    )
    payment = _new_payment(credit, decision)
    # Field checks without full_clean's per-field queries: the foreign keys come
    # from rows just read and the unique constraint is the INSERT's own guard.
    payment.clean_fields(exclude=["vendor", "market", "payment_request"])
    if (
        delivery_id is not None
        and not decision.flags
        and not credit.unreadable_time
        and not decision.settles_request
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        # The common case (nothing but the payment and the delivery's outcome
        # to write) in one self-committing statement; anything else — a sale
        # to settle, flags, or an existing payment — goes the long way below.
        and _insert_and_finish(payment, delivery_id) is not None
    ):
        return payment, True
    with transaction.atomic():
        created = _insert(payment, unless_exists=("source", "provider_txn_id")) is not None
        if not created:
            # A retry, a replay, or the loser of a race with an identical
            # delivery (whose transaction has committed by now: the INSERT waited).
            existing = Payment.objects.get(source=credit.source, provider_txn_id=credit.provider_txn_id)
            if delivery_id is not None:
                _finish(delivery_id, Status.DUPLICATE, txn_id=credit.provider_txn_id, payment_id=existing.pk)
            return existing, False
        flags = [*decision.flags, *_credit_flags(credit)]
        if decision.settles_request and decision.payment_request is not None:
            try:
                decision.payment_request.transition("paid", paid_at=credit.occurred_at)
            except TransitionError:
                # Another credit settled (or the sweep expired) it a moment ago.
                flags.append(Flag("request_already_paid", {"reference": decision.payment_request.reference}))
        if flags:
            PaymentEvent.objects.bulk_create(
                PaymentEvent(payment=payment, kind=flag.kind, data=flag.data) for flag in flags
            )
        if delivery_id is not None:
            _finish(delivery_id, Status.PROCESSED, txn_id=credit.provider_txn_id, payment_id=payment.pk)
    return payment, True


# --- the whole delivery ----------------------------------------------------------------


def webhook_delivery_process(
    *, delivery_id: int, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime
) -> IngestResult:
    """Verify and record an already stored delivery. Raises ``WebhookError``
    (kept on the delivery as rejected/failed) when it is refused."""
    try:
        credit = _verified_credit(provider=provider, headers=headers, body=body, now=now)
    except WebhookError as exc:
        _finish(delivery_id, _refused_status(exc), error=f"{exc.code}: {exc.message}")
        raise

    if credit.direction != "in" or credit.ignore_reason:
        _finish(delivery_id, Status.IGNORED, txn_id=credit.provider_txn_id, error=credit.ignore_reason)
        return IngestResult(delivery_id, Status.IGNORED, None)

    try:
        payment, created = payment_record_credit(credit=credit, delivery_id=delivery_id)
    except Exception:
        logger.exception("webhook delivery %s (%s) failed", delivery_id, provider.SOURCE)
        try:
            _finish(delivery_id, Status.FAILED, txn_id=credit.provider_txn_id, error=traceback.format_exc())
        except Exception:  # the database itself may be what failed; the provider will retry
            logger.exception("could not mark webhook delivery %s as failed", delivery_id)
        raise
    return IngestResult(delivery_id, Status.PROCESSED if created else Status.DUPLICATE, payment)


class _Unverified(Exception):
    """Raised from ``_verified_payload``: the delivery did not prove it came
    from the provider (``error``), so it counts against its sender's address."""

    def __init__(self, error: WebhookError) -> None:
        super().__init__(error.message)
        self.error = error


def _verified_payload(*, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> Any:
    """The parsed body of a delivery whose signature is right; else ``_Unverified``."""
    try:
        # JSON first: two of the three schemes sign the parsed body, and a body
        # that is not JSON can change nothing whoever sent it.
        payload = load_json(body)
        provider.verify(headers=headers, body=body, payload=payload, now=now)
    except WebhookError as exc:
        raise _Unverified(exc) from None
    return payload


def _verified_credit(*, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime) -> BankCredit:
    """Verify and parse a delivery. A refusal is raised as its ``WebhookError``,
    marked ``unverified`` when the signature was not proven (see webhook_limits)."""
    try:
        payload = _verified_payload(provider=provider, headers=headers, body=body, now=now)
    except _Unverified as refused:
        refused.error.unverified = not isinstance(refused.error, NotConfigured)
        raise refused.error from None
    credit: BankCredit = provider.parse(payload, received_at=now)
    return credit


def _refused_status(exc: WebhookError) -> str:
    return Status.FAILED if isinstance(exc, MalformedPayload) else Status.REJECTED


def _refusing(error: WebhookError) -> bool:
    """Counts against its sender's address: refused before the signature was proven."""
    return error.unverified


def _limited(
    *, provider: ModuleType, headers: Mapping[str, str], body: bytes, now: dt.datetime, retry_after: int
) -> TooManyRefusals | None:
    """For a delivery from an address over its refusal limit: None when it
    verifies (it is then stored and recorded as any other), else the 429 to
    answer, without storing it."""
    try:
        _verified_payload(provider=provider, headers=headers, body=body, now=now)
    except _Unverified as refused:
        if not isinstance(refused.error, NotConfigured):
            return limits.too_many_refusals(retry_after)
    return None


def webhook_ingest(
    *,
    provider: ModuleType,
    headers: Mapping[str, str],
    body: bytes,
    remote_addr: str | None = None,
    now: dt.datetime | None = None,
) -> IngestResult:
    """Store, verify and record one delivery from ``provider`` (a module of
    ``payments.webhooks``). A body over ``WEBHOOK_MAX_BODY_BYTES``, or an
    unverifiable delivery from an address over its refusal limit, is refused
    without being stored (``payments.services.webhook_limits``)."""
    now = now or timezone.now()
    if len(body) > limits.max_body_bytes():
        raise webhook_refuse_oversized(provider=provider, size=len(body), remote_addr=remote_addr)
    retry_after = limits.refusals_retry_after(addresses=[remote_addr]).get(remote_addr or "")
    if retry_after:
        refusal = _limited(provider=provider, headers=headers, body=body, now=now, retry_after=retry_after)
        if refusal is not None:
            raise refusal
    delivery = webhook_delivery_store(source=provider.SOURCE, headers=headers, body=body, remote_addr=remote_addr)
    try:
        return webhook_delivery_process(delivery_id=delivery.pk, provider=provider, headers=headers, body=body, now=now)
    except WebhookError as exc:
        if _refusing(exc):
            limits.refusals_count(addresses=[remote_addr])
        raise


def webhook_refuse_oversized(*, provider: ModuleType, size: int, remote_addr: str | None) -> WebhookError:
    """The 413 for a body of ``size`` bytes over the cap; counted as a refusal
    of ``remote_addr`` and logged, not stored (the lanes call this before
    reading such a body)."""
    logger.warning("webhook %s from %s refused unread: %d bytes", provider.SOURCE, remote_addr, size)
    limits.refusals_count(addresses=[remote_addr])
    return limits.payload_too_large(size)


def webhook_deliveries_mark_stuck(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Deliveries still ``received`` long after they arrived were cut off
    mid-request (a worker killed, the database gone). The provider was not
    answered, so it retries and the retry records the payment; mark the
    stranded row failed so that the delivery log tells the truth."""
    cutoff = timezone.now() - older_than
    return WebhookDelivery.objects.filter(status=Status.RECEIVED, received_at__lt=cutoff).update(
        status=Status.FAILED, processed_at=timezone.now(), error="no outcome recorded: the request was cut off"
    )


# --- many deliveries at once -------------------------------------------------------------
#
# The intake lane (``payments.webhooks.intake``) hands over every delivery that
# arrived while the previous batch was being written. On PostgreSQL the common
# case costs a fixed number of statements per batch instead of three round
# trips and a WAL flush per delivery: at a rush hour most of the work of
# recording a payment is per-statement and per-commit overhead, so a batch of
# fifty costs little more than one. The steps and guarantees are those of
# ``webhook_ingest`` above, delivery by delivery:
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
#    ``payment_record_credit`` one by one, exactly as a single delivery would.
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


Outcome = IngestResult | Exception  # what the provider is answered: success, or the refusal/error to report


def _ingest_one(delivery: Delivery, now: dt.datetime) -> Outcome:
    try:
        return webhook_ingest(
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


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()  # full precision, with the offset (DjangoJSONEncoder drops microseconds)
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address | uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _row(obj: models.Model, fields: list[models.Field], **extra: Any) -> dict[str, Any]:
    """``obj`` as its INSERT would write it (``pre_save`` fills auto_now and
    the like), as a JSON object keyed by column."""
    db = connections[DEFAULT_DB_ALIAS]
    row: dict[str, Any] = {}
    for f in fields:
        value = f.pre_save(obj, True)
        row[f.column] = value if isinstance(f, models.JSONField) else f.get_db_prep_save(value, db)
    row.update(extra)
    return row


def _rows_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_json_default, ensure_ascii=False, separators=(",", ":"))


@functools.cache
def _rows_source(model: type[models.Model], extra: tuple[tuple[str, str], ...] = ()) -> tuple[str, list[models.Field]]:
    """``r``: a batch of ``model`` rows passed as ONE JSON parameter (an array
    of objects keyed by column, plus ``ord``, the position in the batch, and
    any ``extra`` (name, type) columns), typed by the model's own columns.
    json.dumps encodes a batch in C and PostgreSQL parses it in C, where
    array parameters cost psycopg a Python loop per element; and the
    statement's text is the same for any batch size."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = [
        f"{qn(f.column)} {'jsonb' if isinstance(f, models.JSONField) else f.db_type(connection)}" for f in fields
    ]
    columns += [f"{qn(name)} {kind}" for name, kind in (*extra, ("ord", "bigint"))]
    return f"SELECT * FROM json_to_recordset(%s::json) AS r({', '.join(columns)})", fields  # noqa: S608 (names from the model)


def _insert_columns(model: type[models.Model], fields: list[models.Field]) -> tuple[str, str]:
    """The INSERT column list (with the primary key) and the matching SELECT list from ``r``."""
    qn = connection.ops.quote_name
    columns = ", ".join([qn(model._meta.pk.column), *(qn(f.column) for f in fields)])
    selected = ", ".join(f"r.{qn(f.column)}" for f in fields)
    return columns, selected


@functools.cache
def _store_many_sql() -> tuple[str, list[models.Field]]:
    model = WebhookDelivery
    source, fields = _rows_source(model)
    columns, selected = _insert_columns(model, fields)
    table = model._meta.db_table
    # Ids are drawn first, in the batch's order, so that each delivery learns
    # its own id (RETURNING promises no order); synchronous_commit is switched
    # off for this statement's own implicit transaction only (see
    # webhook_delivery_store).
    sql = (
        f"WITH r AS MATERIALIZED ({source}), "  # noqa: S608 (names from the model)
        f"ids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id, ord FROM r ORDER BY ord), "
        f'ins AS (INSERT INTO "{table}" ({columns}) SELECT ids.id, {selected} FROM r JOIN ids USING (ord) ORDER BY ord), '
        "quick AS (SELECT set_config('synchronous_commit', 'off', true) AS setting) "
        "SELECT ids.id FROM ids, quick ORDER BY ids.ord"
    )
    return sql, fields


def webhook_deliveries_store(deliveries: list[WebhookDelivery]) -> None:
    """Store raw deliveries (as ``webhook_delivery_store``), one statement for all."""
    sql, fields = _store_many_sql()
    rows = _rows_json([_row(d, fields, ord=i) for i, d in enumerate(deliveries)])
    with _bound_cursor() as cursor:
        cursor.execute(sql, [rows])
        for delivery, row in zip(deliveries, cursor.fetchall(), strict=True):
            _inserted(delivery, row)


@functools.cache
def _record_many_sql() -> tuple[str, list[models.Field]]:
    model = Payment
    source, fields = _rows_source(model, (("delivery", "bigint"),))
    columns, selected = _insert_columns(model, fields)
    table, deliveries = model._meta.db_table, WebhookDelivery._meta.db_table
    sql = (
        # r: the payments, each with the delivery it came in; one per (source, txn id), sorted.
        f"WITH r AS MATERIALIZED ({source}), "  # noqa: S608 (names from the models)
        f"ids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id, ord FROM r ORDER BY ord), "
        f'new AS (INSERT INTO "{table}" ({columns}) SELECT ids.id, {selected} FROM r JOIN ids USING (ord) ORDER BY ord '
        'ON CONFLICT ("source", "provider_txn_id") DO NOTHING RETURNING "id"), '
        f'recorded AS (UPDATE "{deliveries}" d SET "status" = %s, "processed_at" = %s, '
        '"provider_txn_id" = r."provider_txn_id", "payment_id" = new.id, "error" = \'\' '
        "FROM new JOIN ids ON ids.id = new.id JOIN r USING (ord) WHERE d.id = r.delivery), "
        # f: the refused and ignored deliveries' outcomes.
        f'finished AS (UPDATE "{deliveries}" d SET "status" = f.status, "processed_at" = %s, '
        '"provider_txn_id" = f.txn_id, "payment_id" = NULL, "error" = f.error '
        "FROM json_to_recordset(%s::json) AS f(id bigint, status text, txn_id text, error text) "
        "WHERE d.id = f.id) "
        "SELECT r.delivery, new.id FROM new JOIN ids ON ids.id = new.id JOIN r USING (ord)"
    )
    return sql, fields


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
    sql, fields = _record_many_sql()
    plain = sorted(plain, key=lambda p: (p.credit.source, p.credit.provider_txn_id))
    rows = [
        _row(p.payment, fields, delivery=p.delivery_id, ord=i) for i, p in enumerate(plain) if p.payment is not None
    ]
    outcomes = [{"id": d, "status": status, "txn_id": txn, "error": error} for d, status, txn, error in finishes]
    params: list[Any] = [_rows_json(rows), Status.PROCESSED, now, now, _rows_json(outcomes)]
    with _bound_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    recorded = {int(delivery): payment_id for delivery, payment_id in rows}
    for p in plain:
        if p.delivery_id in recorded and p.payment is not None:
            _inserted(p.payment, (recorded[p.delivery_id],))
    return set(recorded)


def webhook_ingest_batch(deliveries: list[Delivery], *, now: dt.datetime | None = None) -> list[Outcome]:
    """Store, verify and record ``deliveries``: for each, the ``IngestResult``
    or the exception that ``webhook_ingest`` would give for it alone (see the
    comment above for how). Outside PostgreSQL, or inside a caller's
    transaction, simply ``webhook_ingest`` one by one."""
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
            outcomes[i] = webhook_refuse_oversized(provider=d.provider, size=len(d.body), remote_addr=d.remote_addr)
            continue
        retry_after = limited.get(d.remote_addr or "")
        refusal = retry_after and _limited(
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
        (i, _raw_delivery(source=d.provider.SOURCE, headers=d.headers, body=d.body, remote_addr=d.remote_addr))
        for i, d in ((i, deliveries[i]) for i in kept)
    ]
    try:
        webhook_deliveries_store([row for _, row in rows])
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
            credit = _verified_credit(provider=d.provider, headers=d.headers, body=d.body, now=now)
        except WebhookError as exc:
            finishes.append((row.pk, _refused_status(exc), "", storable(f"{exc.code}: {exc.message}")))
            outcomes[i] = exc
            if _refusing(exc):
                refused_from.append(d.remote_addr)
            continue
        except Exception as exc:
            logger.exception("webhook delivery %s (%s) failed", row.pk, d.provider.SOURCE)
            finishes.append((row.pk, Status.FAILED, "", storable(traceback.format_exc())))
            outcomes[i] = exc
            continue
        if credit.direction != "in" or credit.ignore_reason:
            finishes.append((row.pk, Status.IGNORED, credit.provider_txn_id, credit.ignore_reason))
            outcomes[i] = IngestResult(row.pk, Status.IGNORED, None)
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
        p.payment = _new_payment(p.credit, decision)
        plain.append(p)

    # 4. the plain credits and every outcome known so far, in one statement
    if plain or finishes:
        try:
            recorded = _record_many(plain, finishes, timezone.now())
        except Exception:
            logger.exception("a batch of %d webhook deliveries failed as a whole; recording them one by one", len(rows))
            for delivery_id, status, txn_id, error in finishes:
                _finish(delivery_id, status, txn_id=txn_id, error=error)
            recorded = set()
        for p in plain:
            if p.delivery_id in recorded:
                outcomes[p.index] = IngestResult(p.delivery_id, Status.PROCESSED, p.payment)
            else:
                one_by_one.append(p)  # already in the table (or the batch failed): the single path decides

    # 5. the rest, one by one, exactly as a single delivery
    for p in one_by_one:
        try:
            payment, created = payment_record_credit(credit=p.credit, delivery_id=p.delivery_id)
        except Exception as exc:
            logger.exception("webhook delivery %s (%s) failed", p.delivery_id, p.credit.source)
            try:
                _finish(p.delivery_id, Status.FAILED, txn_id=p.credit.provider_txn_id, error=traceback.format_exc())
            except Exception:
                logger.exception("could not mark webhook delivery %s as failed", p.delivery_id)
            outcomes[p.index] = exc
            continue
        outcomes[p.index] = IngestResult(p.delivery_id, Status.PROCESSED if created else Status.DUPLICATE, payment)
    return [o if o is not None else RuntimeError("delivery left without an outcome") for o in outcomes]
