"""The database cache (no REDIS_URL) counts concurrent increments right and
keeps an entry's expiry, as the sign-in throttle needs (config/cache.py)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from tests.conftest import needs_postgres

TABLE = "test_cache_counts"
DATABASE_CACHE = {"default": {"BACKEND": "common.cache.DatabaseCache", "LOCATION": TABLE}}


@pytest.mark.django_db(transaction=True)
def test_it_counts_every_increment_of_concurrent_processes() -> None:
    needs_postgres()
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        cache.set("failures", 0, timeout=600)
        start = threading.Barrier(4)

        def fail_25_times() -> None:
            start.wait()
            try:
                for _ in range(25):
                    cache.incr("failures")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=fail_25_times) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert cache.get("failures") == 100
        cache.delete("failures")


@pytest.mark.django_db
def test_an_increment_keeps_the_expiry() -> None:
    with override_settings(CACHES=DATABASE_CACHE):
        call_command("createcachetable", verbosity=0)
        cache.set("failures", 0, timeout=900)

        assert cache.incr("failures", 3) == 3
        assert cache.decr("failures") == 2

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT expires FROM {TABLE} WHERE cache_key = %s", [cache.make_key("failures")])
            (expires,) = cursor.fetchone()
        if timezone.is_naive(expires):
            expires = timezone.make_aware(expires, dt.UTC)
        assert expires - timezone.now() > dt.timedelta(minutes=14)  # not Django's default 300 s
        with pytest.raises(ValueError):
            cache.incr("never-set")
