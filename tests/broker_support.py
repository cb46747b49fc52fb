"""Pointing Celery at another broker inside a test, for real.

Setting ``app.conf.broker_url`` alone changes nothing once a task has been
published: the app keeps its connection pool (and the producer pool built on
it) bound to the old URL. A "broker down" test run after any test that
published would then publish to the old, live broker, and its checks could
not fail. :func:`broker_at` closes and drops both pools, so the next publish
connects to the URL given, and puts everything back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import pools

from common import tasks as common_tasks
from config.celery_app import app

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _rebind(url: str) -> None:
    app.conf.broker_url = url
    # kombu keeps the pools in a process-wide registry keyed by connection:
    # closing one pool would leave a closed pool there for the next user.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def broker_url_in_use() -> str:
    """The URL the next publish would really connect to."""
    with app.producer_or_acquire() as producer:
        return str(producer.connection.as_uri(include_password=False))


@contextmanager
def broker_at(url: str, *, eager: bool) -> Iterator[None]:
    """Publish to ``url`` (eagerly run tasks in-process instead when ``eager``),
    with the enqueue circuit breaker closed; restore the app afterwards."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    _rebind(url)
    app.conf.task_always_eager = eager
    common_tasks._broker_down_until = 0.0
    try:
        yield
    finally:
        _rebind(saved[0])
        app.conf.task_always_eager = saved[1]
        common_tasks._broker_down_until = 0.0
