"""The database triggers that write ``stats_paymentchange`` rows in the same
transaction as every change of ``payments_payment`` — ORM saves, the batching
intake's bulk INSERT … ON CONFLICT DO NOTHING, raw UPDATEs alike — so that no
write path can forget to tell the statistics (docs/stats.md).

An INSERT logs +1 with the new values (on PostgreSQL once per statement, from
its transition table), a DELETE −1 with the old ones, and an
UPDATE that changes a counted column (vendor, market, local date, channel,
status, amount) both; other updates (a vendor's confirmation, ``updated_at``)
log nothing. Installed by migration 0002 for PostgreSQL (a plpgsql function)
and SQLite (the embedded default); ``ensure_installed`` puts them back after a
later migration that rebuilt the payments table (SQLite does that for most
ALTERs, dropping the table's triggers with it). A migration that renames or
retypes one of the counted columns must come with a stats migration that
installs the triggers again (``install`` replaces them).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.migrations.recorder import MigrationRecorder

PAYMENTS = "payments_payment"
CHANGES = "stats_paymentchange"
COUNTED = ("vendor_id", "market_id", "local_date", "channel", "status", "amount")
TRIGGERS = ("stats_payment_insert", "stats_payment_update", "stats_payment_delete")
_FUNCTION = "stats_payment_change"
_INSERTED = "stats_payments_inserted"  # PostgreSQL's insert trigger: once per statement

_COLUMNS = "payment_id, sign, vendor_id, market_id, local_date, channel, status, amount, created_at"


def _values(row: str, sign: int, now: str) -> str:
    return f"{row}.id, {sign}, " + ", ".join(f"{row}.{c}" for c in COUNTED) + f", {now}"


def _postgresql_sql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COUNTED)
    return [
        f"""
        CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("OLD", -1, "now()")});
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values("NEW", 1, "now()")});
            END IF;
            RETURN NULL;
        END
        $$
        """,
        # Inserts are logged once per statement, from its transition table: the
        # intake's batch statement inserts dozens of payments, and one INSERT …
        # SELECT costs a fraction of a plpgsql call per row.
        f"""
        CREATE OR REPLACE FUNCTION {_INSERTED}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {CHANGES} ({_COLUMNS}) SELECT {_values("n", 1, "now()")} FROM stats_new_payments n;
            RETURN NULL;
        END
        $$
        """,
        f"DROP TRIGGER IF EXISTS stats_payment_insert ON {PAYMENTS}",
        f"DROP TRIGGER IF EXISTS stats_payment_update ON {PAYMENTS}",
        f"DROP TRIGGER IF EXISTS stats_payment_delete ON {PAYMENTS}",
        f"CREATE TRIGGER stats_payment_insert AFTER INSERT ON {PAYMENTS} REFERENCING NEW TABLE AS stats_new_payments "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_INSERTED}()",
        f"CREATE TRIGGER stats_payment_update AFTER UPDATE OF {', '.join(COUNTED)} ON {PAYMENTS} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {_FUNCTION}()",
        f"CREATE TRIGGER stats_payment_delete AFTER DELETE ON {PAYMENTS} FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
    ]


def _sqlite_sql() -> list[str]:
    # Django stores SQLite datetimes as UTC text; '%f' is seconds with milliseconds.
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED)
    old = f"INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values('OLD', -1, now)});"
    new = f"INSERT INTO {CHANGES} ({_COLUMNS}) VALUES ({_values('NEW', 1, now)});"
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
        f"CREATE TRIGGER stats_payment_insert AFTER INSERT ON {PAYMENTS} FOR EACH ROW BEGIN {new} END",
        f"CREATE TRIGGER stats_payment_update AFTER UPDATE OF {', '.join(COUNTED)} ON {PAYMENTS} "
        f"FOR EACH ROW WHEN {changed} BEGIN {old} {new} END",
        f"CREATE TRIGGER stats_payment_delete AFTER DELETE ON {PAYMENTS} FOR EACH ROW BEGIN {old} END",
    ]


def _drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *(f"DROP TRIGGER IF EXISTS {name} ON {PAYMENTS}" for name in TRIGGERS),
            f"DROP FUNCTION IF EXISTS {_FUNCTION}()",
            f"DROP FUNCTION IF EXISTS {_INSERTED}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


def _sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _postgresql_sql()
    if vendor == "sqlite":
        return _sqlite_sql()
    raise ImproperlyConfigured(f"stats: no payment change triggers for the {vendor} database")


def install(connection: Any) -> None:
    """Create (or replace) the triggers on ``connection``'s database."""
    with connection.cursor() as cursor:
        for statement in _sql(connection.vendor):
            cursor.execute(statement)


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in _drop_sql(connection.vendor):
            cursor.execute(statement)


def installed(connection: Any) -> set[str]:
    """The names of this module's triggers present on the payments table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [PAYMENTS]
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [PAYMENTS])
        return {name for (name,) in cursor.fetchall()} & set(TRIGGERS)


MIGRATION = ("stats", "0002_payment_change_triggers")


def ensure_installed(connection: Any) -> None:
    """After any ``migrate`` (and ``flush``, which ends with the same signal):
    put the triggers back if a later migration dropped them, once migration
    0002 has installed them."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    tables = set(connection.introspection.table_names())
    if not {PAYMENTS, CHANGES} <= tables or MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    if installed(connection) != set(TRIGGERS):
        install(connection)
    if connection.vendor == "sqlite":
        _forget_flushed_payments(connection)


def _forget_flushed_payments(connection: Any) -> None:
    """``flush`` empties SQLite tables with DELETEs in no set order, so the
    delete trigger may log −1 rows for payments after the change log itself
    was emptied. With no payment left the only right statistics are none: drop
    the change log and the rollups together (PostgreSQL's flush is one
    TRUNCATE, which fires no row trigger). One IMMEDIATE transaction: no
    payment can be written in between."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {PAYMENTS} LIMIT 1")
        if cursor.fetchone() is not None:
            return
        for table in (CHANGES, "stats_marketday", "stats_vendorday", "stats_vendoractivity"):
            cursor.execute(f"DELETE FROM {table}")
