"""The database cache, with an increment that counts right.

Without ``REDIS_URL`` the cache lives in a database table (settings
``CACHES``), so that every process sees the same sign-in counters. Django's
``DatabaseCache`` increments by reading the value and writing it back, which
loses counts when two processes fail a sign-in at once, and rewrites the
entry's expiry with the default timeout (so a 15-minute window would end
after 5). ``incr`` here locks the row and keeps its expiry, as Redis's
``INCR`` does.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils import timezone


class DatabaseCache(DjangoDatabaseCache):
    def __init__(self, table: str, params: dict[str, Any]) -> None:
        # Culling deletes entries by key order once the table passes
        # MAX_ENTRIES (300 by default): a flood of keys must not be able to
        # delete a throttle counter.
        options = {"MAX_ENTRIES": 100_000, **params.get("OPTIONS", {})}
        super().__init__(table, {**params, "OPTIONS": options})

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table, column_key = quote_name(self._table), quote_name("cache_key")  # type: ignore[attr-defined]
        column_value, column_expires = quote_name("value"), quote_name("expires")
        # SQLite has no FOR UPDATE; its transactions (IMMEDIATE here) take the write lock at BEGIN.
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column_value}, {column_expires} FROM {table} WHERE {column_key} = %s{lock}",  # noqa: S608
                [key],
            )
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET {column_value} = %s WHERE {column_key} = %s", [encoded, key])  # noqa: S608
        return int(value)

    @staticmethod
    def _expired(connection: Any, expires: Any) -> bool:
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return bool(expires < timezone.now())
