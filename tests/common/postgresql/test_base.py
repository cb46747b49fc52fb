"""The PostgreSQL backend's answer deadline: a statement the server does not
answer in time fails with OperationalError (503 for the lanes) instead of
waiting as long as the server hangs, and the next request gets a working
connection. The hang here is a lock held by another session, which keeps the
statement waiting as a frozen server would."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import OperationalError, connection

from common.database import answer_deadline, database_unavailable
from tests.conftest import needs_postgres


@pytest.mark.django_db(transaction=True)
def test_a_statement_past_the_deadline_fails_in_time_and_the_next_one_gets_a_new_connection() -> None:
    needs_postgres()
    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or None, dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"]
    )
    locker.execute("LOCK TABLE payments_payment IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        with answer_deadline(1), pytest.raises(OperationalError) as failed, connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM payments_payment")
        waited = time.monotonic() - started
    finally:
        locker.close()

    assert database_unavailable(failed.value)  # answered 503 + Retry-After by the lanes
    assert 0.9 < waited < 2  # not the statement_timeout (15 s), not the hang
    connection.close_if_unusable_or_obsolete()  # as at the end of the request
    with connection.cursor() as cursor:  # no deadline: as before
        cursor.execute("SELECT count(*) FROM payments_payment")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_no_connection_is_begun_once_the_deadline_has_passed() -> None:
    needs_postgres()
    connection.close()
    with answer_deadline(0.05), pytest.raises(OperationalError):
        time.sleep(0.1)  # the deadline passes (say, in a health check's SELECT 1)
        started = time.monotonic()
        connection.ensure_connection()

    assert time.monotonic() - started < 0.3  # refused at once: a connection attempt may take 2 s
    connection.close()
    with answer_deadline(5):
        connection.ensure_connection()  # time enough: connected as usual
    assert connection.is_usable()
