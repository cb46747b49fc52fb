"""The ledger's partial indexes: each is written only for the rows its
queries look for, and those queries use it."""

from __future__ import annotations

import pytest
from django.db import connection

from payments.bank_credits.ingest import webhook_deliveries_mark_stuck
from payments.bank_credits.webhook_limits import webhook_deliveries_purge_refused
from payments.models import Payment, WebhookDelivery
from tests.conftest import needs_postgres


def _plans(run) -> list[str]:  # type: ignore[no-untyped-def]
    """EXPLAIN of every SELECT, UPDATE and DELETE that ``run()`` sends on the
    default connection, sequential scans off (any usable index beats them)."""
    statements: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql, params in statements:
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.django_db
def test_the_sweeps_of_deliveries_without_a_payment_use_their_partial_index() -> None:
    needs_postgres()
    stuck = _plans(webhook_deliveries_mark_stuck)
    refused = _plans(lambda: webhook_deliveries_purge_refused(older_than_days=0))
    assert "delivery_unpaid_idx" in stuck[0], stuck[0]
    assert "delivery_unpaid_idx" in refused[0], refused[0]
    assert not any("Seq Scan" in plan for plan in stuck + refused), stuck + refused


@pytest.mark.django_db
def test_a_sales_payments_are_found_through_their_partial_index() -> None:
    needs_postgres()
    plans = _plans(lambda: list(Payment.objects.filter(payment_request_id=1)))
    assert "payment_request_idx" in plans[0], plans[0]


@pytest.mark.django_db
def test_deliveries_are_listed_newest_first_by_their_primary_key() -> None:
    needs_postgres()
    plans = _plans(lambda: list(WebhookDelivery.objects.all()[:50]))
    assert "Index Scan Backward using payments_webhookdelivery_pkey" in plans[0], plans[0]
