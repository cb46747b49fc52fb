"""Redis down: the webhook intake's refusal counters and the receipts'
messages skip it for a few seconds after a failure, and say so once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import override_settings

from common import breaker
from common.breaker import REDIS
from payments.bank_credits import webhook_limits
from tests.conftest import free_port

DEAD_REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    now = [1000.0]
    monkeypatch.setattr(breaker.time, "monotonic", lambda: now[0])
    return now


def test_a_cache_outage_limits_no_delivery_and_is_logged_once(
    caplog: pytest.LogCaptureFixture, clock: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # Other tests (a worker or a command started in-process) may configure logging again and
    # leave this module's logger disabled or not propagating: read it wherever the suite left it.
    monkeypatch.setattr(breaker.logger, "disabled", False)
    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)
    caplog.set_level("WARNING", logger=breaker.logger.name)
    breaker.logger.addHandler(caplog.handler)  # whatever the propagation above it
    request.addfinalizer(lambda: breaker.logger.removeHandler(caplog.handler))
    calls = 0
    with override_settings(CACHES=DEAD_REDIS_CACHE):
        from django.core.cache import cache

        real_get_many = cache.get_many

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return real_get_many(*args, **kwargs)

        cache.get_many = counted  # type: ignore[method-assign]
        try:
            answers = [webhook_limits.refusals_retry_after(addresses=["203.0.113.9"]) for _ in range(50)]
            for _ in range(50):
                webhook_limits.refusals_count(addresses=["203.0.113.9"])
            assert calls == 1  # Redis was tried once, then skipped
            clock[0] += REDIS.seconds + 0.1
            webhook_limits.refusals_retry_after(addresses=["203.0.113.9"])
            assert calls == 2  # and tried again once the pause is over
        finally:
            del cache.get_many

    assert answers == [{}] * 50  # fail open: every delivery let through
    # once per opening (the handler sits on the logger and on the root: count records, not lines)
    assert len({id(r) for r in caplog.records if "Redis unavailable" in r.getMessage()}) == 2


def test_a_redis_that_came_back_is_used_again(clock: Any) -> None:
    REDIS.trip(ConnectionError("refused"), "a test")
    assert not REDIS.closed()
    clock[0] += REDIS.seconds
    assert REDIS.closed()


def test_a_publish_to_a_dead_redis_costs_one_attempt_per_pause(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from payments.receipts import publish

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/11"
    attempts = []
    real_send = publish._send
    monkeypatch.setattr(publish, "_send", lambda messages: (attempts.append(1), real_send(messages)))

    for _ in range(30):
        publish._publish(['{"id": 1}'])

    assert len(attempts) == 1
