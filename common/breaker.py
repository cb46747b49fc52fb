"""A circuit breaker for Redis where it is optional: the webhook intake's
refusal counters (in the cache) and the live receipts' messages.

Both fail open — a bank credit is recorded whether or not Redis answers — but
trying Redis on every request while it is down costs each request a
connection attempt (up to the client's timeout when Redis hangs rather than
refuses) and wrote a traceback per request: 12 MB of log in 25 s of outage
at 150 credits/s (docs/reliability.md, redis_stop). After a failure the
breaker stays open for ``seconds``: callers skip Redis, and the outage is
logged once per opening, not once per request. Per process, no lock: a race
costs at most one extra attempt.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self._open_until = 0.0

    def closed(self) -> bool:
        """Whether to try the service now."""
        return time.monotonic() >= self._open_until

    def trip(self, exc: BaseException, what: str) -> None:
        """``what`` failed with ``exc``: skip the service for ``seconds``."""
        if self.closed():
            logger.warning(
                "%s unavailable (%s: %s: %s); skipped for %.0f s",
                self.name,
                what,
                type(exc).__name__,
                exc,
                self.seconds,
            )
        self._open_until = time.monotonic() + self.seconds

    def reset(self) -> None:
        self._open_until = 0.0


# The shared cache and the receipts' channel: Redis in production.
REDIS = Breaker("Redis", 5.0)
