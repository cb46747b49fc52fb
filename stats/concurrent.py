"""The independent queries of one statistics read, run side by side.

A province's read is a dozen grouped queries that do not depend on each
other (the headline's roster, payments and active vendors, the trend, the
payment mix, the cohorts …); sent one after the other their times add up,
while PostgreSQL could answer several at once on its other cores. ``run``
sends them from a small pool of threads, each with its own database
connection, and returns when all have answered: the read takes about as long
as its slowest query or its total divided by the cores, whichever is longer,
instead of the sum (measured in docs/stats.md, "Scale").

It runs them one after the other, in the caller's thread, when any of these
holds, so behaviour never depends on it:
- ``STATS_READ_THREADS`` is 1 (or less);
- the database is not PostgreSQL (SQLite under ``make run``);
- the caller is inside a transaction (``atomic``): another connection would
  not see its uncommitted rows (the tests' transactions among them);
- there is a single job.

Each job runs with the caller's language and time zone (both are per thread
in Django), and before it the worker's connection gets the checks a request
would give it (``close_if_unusable_or_obsolete``: its age, its health), so a
restarted database costs one failed read at most, as it does for requests.
The jobs see the database as of their own start, a few milliseconds apart; a
fold committing in between can make one figure of a page a fold newer than
another, never wrong.

The pool is made per process on first use (after a fork, never inherited)
and its threads live as long as the process, with their connections:
``STATS_READ_THREADS`` extra connections per web process at most.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

T = TypeVar("T")

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool)


def threads() -> int:
    return max(1, int(getattr(settings, "STATS_READ_THREADS", 1) or 1))


def side_by_side(jobs: Mapping[str, Callable[[], Any]]) -> bool:
    """Whether ``run`` would send these jobs from the pool."""
    return threads() > 1 and len(jobs) > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


def run(jobs: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Every job's result by its name; the first exception of a job is raised
    (after all have ended) as if it had been called here."""
    if not side_by_side(jobs):
        return {name: job() for name, job in jobs.items()}
    language = translation.get_language()
    zone = timezone.get_current_timezone()
    pool = _executor()
    futures: dict[str, Future[Any]] = {name: pool.submit(_in_worker, job, language, zone) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}


def _in_worker(job: Callable[[], T], language: str | None, zone: Any) -> T:
    connection.close_if_unusable_or_obsolete()
    try:
        with translation.override(language), timezone.override(zone):
            return job()
    except Exception:
        # A broken connection must not serve the next job; a healthy one is cheap to reopen.
        connection.close()
        raise


def shutdown() -> None:
    """Close every worker's connection and stop the pool (the tests call it
    after each test that used it, so that no connection outlives the test
    database). Each worker takes exactly one closing job: they wait for each
    other at a barrier."""
    global _pool
    with _lock:
        found, _pool = _pool, None
    if found is None or found[0] != os.getpid():
        return
    pool = found[1]
    barrier = threading.Barrier(threads())

    def close_mine() -> None:
        connection.close()
        barrier.wait(timeout=30)

    for future in [pool.submit(close_mine) for _ in range(threads())]:
        future.result()
    pool.shutdown(wait=True)


def _executor() -> ThreadPoolExecutor:
    global _pool
    pid = os.getpid()
    with _lock:
        if _pool is None or _pool[0] != pid:
            _pool = (pid, ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="stats-read"))
        return _pool[1]
