"""A statistics read's queries sent side by side (stats/concurrent.py) give
the very answer they give one by one, and only run side by side where other
connections see the same rows; the one pass over ``MarketDay`` on
PostgreSQL (stats/market_days.py) gives what the queries it replaces give."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, transaction

from stats import concurrent, market_read
from stats.figures import figures_by
from stats.periods import Period
from stats.scopes import Scope, market_scope, nation, province_scope
from stats.selectors import payment_mix, scope_stats
from stats.selectors_series import series, series_and_groups
from tests.conftest import needs_postgres
from tests.stats.test_selectors import NOV, check_against_raw


@pytest.fixture
def worker_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads the jobs ran in."""
    names: list[str] = []
    real = concurrent._in_worker

    def recording(job: Any, language: Any, zone: Any) -> Any:
        names.append(threading.current_thread().name)
        return real(job, language, zone)

    monkeypatch.setattr(concurrent, "_in_worker", recording)
    return names


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["market", "province", "nation"])
def test_a_read_side_by_side_is_the_read_one_by_one(data, settings, worker_threads, monkeypatch, kind) -> None:
    needs_postgres()
    scope = {
        "market": lambda: market_scope(data.market),
        "province": lambda: province_scope(data.market.province),
        "nation": nation,
    }[kind]()
    fast = None
    if kind == "market":
        # A market's read is one round trip (stats.market_read), never sent to the pool; its
        # general path, the one sent side by side, must give the same answer.
        settings.STATS_READ_THREADS = 3
        fast = scope_stats(scope, NOV)
        assert worker_threads == []
        monkeypatch.setattr(market_read, "applies", lambda scope: False)
    settings.STATS_READ_THREADS = 1
    one_by_one = scope_stats(scope, NOV)
    assert worker_threads == []

    settings.STATS_READ_THREADS = 3
    side_by_side = scope_stats(scope, NOV)
    assert len(worker_threads) >= 8, worker_threads  # every query of the read went to the pool
    assert all(name.startswith("stats-read") for name in worker_threads)
    assert side_by_side == one_by_one
    if kind == "market":
        assert fast == side_by_side
        check_against_raw(side_by_side, [data.market.pk], NOV)


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_read_stays_in_the_callers_thread(data, settings, worker_threads) -> None:
    """Rows not committed yet are seen only by the caller's connection."""
    needs_postgres()
    settings.STATS_READ_THREADS = 3
    with transaction.atomic():
        assert connection.in_atomic_block
        scope_stats(market_scope(data.market), NOV)
    assert worker_threads == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_query_fails_the_read_and_the_pool_serves_the_next(settings) -> None:
    needs_postgres()
    settings.STATS_READ_THREADS = 2

    def broken() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM market_market")

    def fine() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 41 + 1")
            return int(cursor.fetchone()[0])

    with pytest.raises(Exception, match="no_such_column"):
        concurrent.run({"broken": broken, "fine": fine})
    assert concurrent.run({"a": fine, "b": fine, "c": fine}) == {"a": 42, "b": 42, "c": 42}


def test_on_sqlite_or_with_one_thread_jobs_run_in_order_in_the_callers_thread(settings, db) -> None:
    settings.STATS_READ_THREADS = 1
    seen: list[str] = []
    jobs = {name: (lambda name=name: seen.append(name) or threading.current_thread().name) for name in "abc"}
    ran = concurrent.run(jobs)
    assert seen == ["a", "b", "c"]
    assert set(ran.values()) == {threading.current_thread().name}


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
@pytest.mark.parametrize("kind", ["market", "ward", "province"])
def test_one_pass_over_market_days_gives_what_the_separate_queries_give(data, kind, granularity) -> None:
    """On PostgreSQL a market's read takes its payments, payment mix and
    trend's payments from one grouping-sets query (stats/market_days.py);
    each equals the query it replaces, over periods crossing month and week
    boundaries (the previous period included). Wards and provinces, read
    with the separate queries, are checked the same way."""
    needs_postgres()
    market = data.market
    scope = {
        "market": lambda: market_scope(market),
        "ward": lambda: Scope("ward", market.ward_id, market.ward.name, province_code="19"),
        "province": lambda: province_scope(market.province),
    }[kind]()
    period = Period(dt.date(2026, 10, 9), dt.date(2026, 11, 30), granularity)
    stats = scope_stats(scope, period)

    mix = payment_mix(scope, period)
    assert {key: stats[key] for key in mix} == mix
    assert sum(row["count"] for row in mix["channels"]) > 0
    if kind == "province":
        trend, by_legacy = series_and_groups(scope, period, "market__legacy_province_id")
        assert stats["series"] == trend
        assert {group["code"]: group["series"] for group in stats["groups"] if group["code"] in by_legacy} == by_legacy
    else:
        assert stats["series"] == series(scope, period)
    groups: tuple[str | None, ...] = (None,) if kind == "market" else (None, "market")
    separate = figures_by(scope, period, groups)
    headline = separate[None][None]
    for key in ("payments_count", "payments_value", "average_ticket"):
        assert stats[key] == headline[key]
        assert stats["previous"][key] == headline["previous"][key]
    assert stats["previous"]["payments_count"] > 0
    if kind != "market":
        assert {row["id"]: row["payments_value"] for row in stats["markets"]} == {
            market_id: row["payments_value"] for market_id, row in separate["market"].items()
        }
