"""The raw SQL of the bank-credit ingest: one module for every statement that
bypasses the ORM (single INSERTs built from the models, the self-committing
INSERT-and-finish, and the ``jsonb_array_elements`` batch statements).

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
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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


# How ``values_row`` writes a row: a JSON object keyed by column, the values
# as the INSERT would write them — text, numbers, ids and jsonb documents as
# they are, times as ISO 8601 with their offset, anything else through
# get_db_prep_save. Fields absent from the values take their default, which
# is computed once per field list (the row is encoded and dropped, never
# changed, so a ``dict`` default can be shared) unless it is some other
# callable, which is called per row.
_AS_IS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.GenericIPAddressField,  # text that PostgreSQL's inet reads and normalises itself
)
_SHARED_DEFAULTS = (dict, list)  # callables whose value is only read here


@dataclass(frozen=True)
class _RowPlan:
    template: dict[str, Any]  # every column with its default
    per_row: tuple[tuple[str, Callable[[], Any]], ...]  # defaults made afresh for each row
    auto: tuple[str, ...]  # auto_now(_add) columns: the time now unless given
    times: tuple[str, ...]  # date and time columns: ISO 8601
    prep: tuple[tuple[str, models.Field], ...]  # through get_db_prep_save
    columns: frozenset[str]


_plans: dict[int, tuple[list[models.Field], _RowPlan]] = {}


def _row_plan(fields: list[models.Field]) -> _RowPlan:
    """How to write rows of ``fields`` (a list this module keeps: the plan is
    kept by the list's identity, hashing twenty fields per row would cost more)."""
    cached = _plans.get(id(fields))
    if cached is not None and cached[0] is fields:
        return cached[1]
    template: dict[str, Any] = {}
    per_row, auto, times, prep = [], [], [], []
    for f in fields:
        if f.attname != f.column:  # values are keyed by attname and written by column
            raise ValueError(f"{f} is stored under another name ({f.column}): values_row cannot write it")
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add):
            auto.append(f.column)
        elif f.has_default() and callable(f.default) and f.default not in _SHARED_DEFAULTS:
            per_row.append((f.column, f.get_default))
        template[f.column] = None if f.column in auto else f.get_default()
        if isinstance(f, models.DateField):  # DateTimeField too
            times.append(f.column)
        elif not isinstance(f, (*_AS_IS, models.JSONField)):
            prep.append((f.column, f))
    plan = _RowPlan(template, tuple(per_row), tuple(auto), tuple(times), tuple(prep), frozenset(template))
    _plans[id(fields)] = (fields, plan)
    return plan


def values_row(
    fields: list[models.Field],
    values: dict[str, Any],
    *,
    now: dt.datetime | str | None = None,
    extra: tuple[Any, ...] = (),
) -> list[Any]:
    """The row ``Model(**values)`` would INSERT, as the JSON array ``_rows_source``
    reads: the columns of ``fields`` in their order, then ``extra`` (``ord``,
    say) — made without the instance (the intake writes two per delivery and
    needs neither). Fields absent from ``values`` take their default,
    auto_now ones ``now`` (default: the time now); a date or time given as
    text is taken as the ISO 8601 the row needs (a batch formats its one
    moment once). Not validated: a value the table refuses fails the statement."""
    plan = _row_plan(fields)
    if not plan.columns.issuperset(values):
        raise ValueError(f"not columns of these fields: {sorted(set(values) - plan.columns)}")
    row = plan.template.copy()  # keyed in the order of ``fields``; updating a key keeps its place
    for column, make in plan.per_row:
        row[column] = make()
    if plan.auto:
        moment = now or timezone.now()
        for column in plan.auto:
            row[column] = moment
    row.update(values)
    for column in plan.times:
        value = row[column]
        if value is not None and value.__class__ is not str:  # text: the caller's ISO 8601 already
            row[column] = value.isoformat()  # full precision, with the offset
    if plan.prep:
        db = connections[DEFAULT_DB_ALIAS]
        for column, f in plan.prep:
            row[column] = f.get_db_prep_save(row[column], db)
    return [*row.values(), *extra]


_rows_encoder = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))


def rows_json(rows: list[list[Any]]) -> str:
    return _rows_encoder.encode(rows)


_TYPMOD = re.compile(r"\(\d+(?:,\s*\d+)?\)")


@functools.cache
def _rows_source(model: type[models.Model], extra: tuple[tuple[str, str], ...] = ()) -> tuple[str, list[models.Field]]:
    """``r``: a batch of ``model`` rows passed as ONE JSON parameter — an array
    of ``values_row`` arrays: the model's columns in order, then the ``extra``
    (name, type) columns — typed by the model's own columns.

    json.dumps encodes a batch in C, where array parameters cost psycopg a
    Python loop per element, and the statement's text is the same for any
    batch size. Rows are arrays read by position from one ``jsonb``, not
    objects read by name (``json_to_recordset``): PostgreSQL spent 19 µs of
    CPU per payment reading a payment and its delivery by name, and 8.5 by
    position. Text columns are read without their length (``varchar``, not
    ``varchar(16)``: an explicit cast would cut a value silently), so that
    the INSERT's own assignment refuses a value too long, as it refuses any
    other value the table cannot hold."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    columns = [
        f"NULLIF(e->{i}, 'null') AS {qn(f.column)}"  # JSON null is SQL NULL, as in any other column
        if isinstance(f, models.JSONField)
        else f"(e->>{i})::{_TYPMOD.sub('', f.db_type(connection) or 'text')} AS {qn(f.column)}"
        for i, f in enumerate(fields)
    ]
    columns += [f"(e->>{len(fields) + i})::{kind} AS {qn(name)}" for i, (name, kind) in enumerate(extra)]
    return f"SELECT {', '.join(columns)} FROM jsonb_array_elements(%s::jsonb) AS e", fields  # noqa: S608 (names from the model)


def _insert_columns(model: type[models.Model], fields: list[models.Field]) -> tuple[str, str]:
    """The INSERT column list (with the primary key) and the matching SELECT list from ``r``."""
    qn = connection.ops.quote_name
    columns = ", ".join([qn(model._meta.pk.column), *(qn(f.column) for f in fields)])
    selected = ", ".join(f"r.{qn(f.column)}" for f in fields)
    return columns, selected


@functools.cache
def store_and_record_sql() -> tuple[str, list[models.Field], list[models.Field]]:
    """ONE statement for a batch: insert the plain credits' payments (unless
    their key exists) and store every delivery with its outcome.

    Parameters: the payments (``rows_json`` of ``values_row`` with ``ord``, in
    (source, provider_txn_id) order) and the deliveries (``values_row`` with
    ``ord`` and ``pay``, in that order, the ``ord`` of the payment it brought, or null). A
    delivery whose payment the table already held is stored as received,
    without payment, for the single path to finish. Returns, per delivery in
    ``ord`` order, its new id and its new payment's id (or null)."""
    pay_source, pay_fields = _rows_source(Payment, (("ord", "bigint"),))
    pay_columns, pay_selected = _insert_columns(Payment, pay_fields)
    del_source, del_fields = _rows_source(WebhookDelivery, (("ord", "bigint"), ("pay", "bigint")))
    payments, deliveries = Payment._meta.db_table, WebhookDelivery._meta.db_table
    qn = connection.ops.quote_name
    left_over = "dd.pay IS NOT NULL AND dd.new_payment IS NULL"  # its payment existed: the single path finishes it
    finished = {
        "status": f"CASE WHEN {left_over} THEN '{Status.RECEIVED.value}' ELSE dd.status END",
        "provider_txn_id": f"CASE WHEN {left_over} THEN '' ELSE dd.provider_txn_id END",
        "processed_at": f"CASE WHEN {left_over} THEN NULL ELSE dd.processed_at END",
        "payment_id": "dd.new_payment",
    }
    del_columns = ", ".join([qn(WebhookDelivery._meta.pk.column), *(qn(f.column) for f in del_fields)])
    del_selected = ", ".join(finished.get(f.column, f"dd.{qn(f.column)}") for f in del_fields)
    sql = (
        f"WITH r AS MATERIALIZED ({pay_source}), "  # noqa: S608 (names from the models)
        f"pids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{payments}', 'id')) AS id, ord "
        "FROM r ORDER BY ord), "
        f'new AS (INSERT INTO "{payments}" ({pay_columns}) SELECT pids.id, {pay_selected} '
        "FROM r JOIN pids USING (ord) ORDER BY ord "
        'ON CONFLICT ("source", "provider_txn_id") DO NOTHING RETURNING "id"), '
        f"d AS MATERIALIZED ({del_source}), "
        f"dids AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{deliveries}', 'id')) AS id, ord "
        "FROM d ORDER BY ord), "
        "dd AS MATERIALIZED (SELECT dids.id, d.*, new.id AS new_payment FROM d JOIN dids USING (ord) "
        "LEFT JOIN pids ON pids.ord = d.pay LEFT JOIN new ON new.id = pids.id), "
        f'stored AS (INSERT INTO "{deliveries}" ({del_columns}) SELECT dd.id, {del_selected} FROM dd ORDER BY dd.ord) '
        "SELECT dd.id, dd.new_payment FROM dd ORDER BY dd.ord"
    )
    return sql, pay_fields, del_fields
