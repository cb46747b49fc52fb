"""Django's PostgreSQL backend (psycopg 3), whose waits for the server can be
bounded: inside ``common.database.answer_deadline(seconds)``, a connection
waits for PostgreSQL's answer (a query, a commit, the health check's
``SELECT 1``) at most until the deadline, and a new connection is given at most
the time left to connect (never more than ``DB_CONNECT_TIMEOUT``, never less
than psycopg's shortest, 2 s; none once the deadline has passed). Past it the
connection is closed (it is mid-statement: unusable) and the wait raises
``OperationalError`` (503 + Retry-After, ``common.database``).

Why: ``statement_timeout`` is enforced by the server, so it cannot help when
the server itself hangs (frozen, stuck on its disk, a half-open TCP
connection whose kernel still ACKs): the client then waits for as long as the
hang lasts. The webhook lanes must answer the providers before their own
timeout, so they wait inside a deadline; everything else is unchanged (some
work rightly runs with ``SET LOCAL statement_timeout = 0``).

Settings: ``DATABASES["default"]["ENGINE"] = "common.postgresql"`` (config/settings.py).
"""

from __future__ import annotations

import math
import types
from typing import Any

import psycopg
from django.db.backends.postgresql import base

from common.database import answer_time_left

_WAIT_INTERVAL = 0.1  # psycopg's own: how often a wait wakes up to notice Ctrl-C


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits end at the thread's answer deadline."""

    def wait(self, gen: Any, interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> Any:
        left = answer_time_left()
        if left is None:
            return super().wait(gen, interval, timeout)
        bound = max(0.01, left if timeout is None else min(timeout, left))
        try:
            return super().wait(gen, interval, bound)
        except psycopg.errors._WaitTimeout:
            self.close()  # mid-statement: nothing more can be said on it
            raise psycopg.OperationalError(
                f"PostgreSQL did not answer within the request's deadline ({bound:.1f} s); connection closed"
            ) from None

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:  # type: ignore[override]
        left = answer_time_left()
        if left is not None:
            if left <= 0:  # the deadline passed (say in the health check): not another 2 s to connect
                raise psycopg.OperationalError("no time left within the request's deadline to connect to PostgreSQL")
            # psycopg counts connect_timeout in whole seconds, and at least 2.
            kwargs["connect_timeout"] = min(int(kwargs.get("connect_timeout") or 3600), max(2, math.ceil(left)))
        return super().connect(conninfo, **kwargs)


class _Driver(types.ModuleType):
    """psycopg itself, except that ``connect`` makes a ``BoundedConnection``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(psycopg, name)

    @staticmethod
    def connect(conninfo: str = "", **kwargs: Any) -> Any:
        return BoundedConnection.connect(conninfo, **kwargs)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Driver("psycopg")
