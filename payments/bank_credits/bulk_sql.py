"""The raw SQL of the bank-credit ingest: one module for every statement that
bypasses the ORM (single INSERTs built from the models, the self-committing
INSERT-and-finish, and the ``json_to_recordset`` batch statements).

Used by ``payments.bank_credits.ingest`` (one delivery) and
``payments.bank_credits.batching`` (many at once); see their docstrings for
why each statement has the shape it has.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import ipaddress
import json
import uuid
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

from payments.bank_credits.providers.base import storable
from payments.models import Payment, WebhookDelivery

Status = WebhookDelivery.Status


# The statements below run for every delivery, so they are written as SQL built
# once from the models' own field definitions (a new field with a default is
# picked up); on this project's 2-core servers Django's per-query compilation
# costs several times more CPU than PostgreSQL spends executing them.


def bound_cursor() -> Any:
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


def insert_sql(obj: models.Model, *, unless_exists: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
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


def inserted(obj: models.Model, row: tuple[Any, ...] | None) -> int | None:
    """Give ``obj`` the primary key the INSERT returned (None: it inserted nothing)."""
    if row is None:
        return None
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return int(row[0])


def insert_one(obj: models.Model, *, unless_exists: tuple[str, ...] = (), before: str = "") -> int | None:
    """INSERT ``obj`` and return its new primary key, or None when
    ``unless_exists`` found the row there (see ``insert_sql``). ``before`` is
    a statement sent in the same round trip (PostgreSQL runs both in one
    implicit transaction)."""
    sql, values = insert_sql(obj, unless_exists=unless_exists)
    with connection.cursor() as cursor:
        cursor.execute(f"{before}; {sql}" if before else sql, values)
        while cursor.description is None and cursor.nextset():
            pass  # skip the result of ``before``
        return inserted(obj, cursor.fetchone())


_FINISH_SQL = (
    f'UPDATE "{WebhookDelivery._meta.db_table}" SET "status" = %s, "processed_at" = %s, '  # noqa: S608
    '"provider_txn_id" = %s, "payment_id" = %s, "error" = %s WHERE "id" = %s'
)


# _FINISH_SQL for the statement of ``insert_and_finish``: the payment is the
# one its ``new`` CTE inserted, and nothing is updated when it inserted nothing.
_FINISH_WITH_NEW_SQL = (
    f'UPDATE "{WebhookDelivery._meta.db_table}" SET "status" = %s, "processed_at" = %s, '  # noqa: S608
    '"provider_txn_id" = %s, "payment_id" = (SELECT id FROM new), "error" = %s '
    'WHERE "id" = %s AND EXISTS (SELECT 1 FROM new)'
)


def finish(delivery_id: int, status: str, *, txn_id: str = "", payment_id: int | None = None, error: str = "") -> None:
    with connection.cursor() as cursor:
        cursor.execute(_FINISH_SQL, [status, timezone.now(), txn_id, payment_id, storable(error), delivery_id])


def insert_and_finish(payment: Payment, delivery_id: int) -> int | None:
    """On PostgreSQL outside any transaction: insert ``payment`` (unless its
    (source, provider_txn_id) exists) and mark the delivery processed with it,
    as ONE statement — atomic on its own (a data-modifying CTE) and committed
    synchronously, in one round trip instead of four (BEGIN, INSERT, UPDATE,
    COMMIT). Returns the new payment's id, or None when it existed (the
    delivery is then left untouched for the duplicate path)."""
    insert, values = insert_sql(payment, unless_exists=("source", "provider_txn_id"))
    sql = f"WITH new AS ({insert}), finished AS ({_FINISH_WITH_NEW_SQL}) SELECT id FROM new"  # noqa: S608
    params = [*values, Status.PROCESSED, timezone.now(), payment.provider_txn_id, "", delivery_id]
    with bound_cursor() as cursor:
        cursor.execute(sql, params)
        return inserted(payment, cursor.fetchone())


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()  # full precision, with the offset (DjangoJSONEncoder drops microseconds)
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address | uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def as_row(obj: models.Model, fields: list[models.Field], **extra: Any) -> dict[str, Any]:
    """``obj`` as its INSERT would write it (``pre_save`` fills auto_now and
    the like), as a JSON object keyed by column."""
    db = connections[DEFAULT_DB_ALIAS]
    row: dict[str, Any] = {}
    for f in fields:
        value = f.pre_save(obj, True)
        row[f.column] = value if isinstance(f, models.JSONField) else f.get_db_prep_save(value, db)
    row.update(extra)
    return row


def rows_json(rows: list[dict[str, Any]]) -> str:
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
def store_many_sql() -> tuple[str, list[models.Field]]:
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
    sql, fields = store_many_sql()
    rows = rows_json([as_row(d, fields, ord=i) for i, d in enumerate(deliveries)])
    with bound_cursor() as cursor:
        cursor.execute(sql, [rows])
        for delivery, row in zip(deliveries, cursor.fetchall(), strict=True):
            inserted(delivery, row)


@functools.cache
def record_many_sql() -> tuple[str, list[models.Field]]:
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
