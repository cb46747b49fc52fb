"""The pure parts of the redis_stop, celery_kill and soak drills: what they
decide from what they measured."""

from __future__ import annotations

import datetime as dt
import json

from drills import drill_soak
from drills.lanes import _cookie
from drills.providers import ProviderLoad


def _samples(growth_kib: int) -> list[tuple[float, dict[str, int]]]:
    """A worker at 100 MiB from the warm-up on, ``growth_kib`` more at the end."""
    base = 100 * 1024
    return [(0.0, {"w": 60 * 1024}), (30.0, {"w": base}), (60.0, {"w": base}), (90.0, {"w": base + growth_kib})]


def test_the_soak_calls_memory_flat_within_its_bound_and_a_leak_not():
    grew, table = drill_soak._flatness(_samples(20 * 1024), warm_up=30.0)
    assert grew == []  # +20 MiB on 100 MiB: within 24 MiB
    assert table["w"].startswith("60 → 100 → 120 MiB (max 120")

    grew, _ = drill_soak._flatness(_samples(40 * 1024), warm_up=30.0)
    assert grew == ["w grew 40.0 MiB after the warm-up (bound 24 MiB)"]


def test_the_growth_during_the_warm_up_does_not_count():
    samples = [(0.0, {"w": 10 * 1024}), (30.0, {"w": 200 * 1024}), (60.0, {"w": 200 * 1024})]
    assert drill_soak._flatness(samples, warm_up=30.0)[0] == []


def test_cookies_are_read_from_joined_set_cookie_headers():
    header = "csrftoken=abc123; Path=/; Secure; sessionid=s3ss; HttpOnly"
    assert _cookie(header, "csrftoken") == "abc123"
    assert _cookie(header, "sessionid") == "s3ss"
    assert _cookie(header, "missing") is None


def test_deliveries_dated_now_carry_todays_vietnam_time():
    load = ProviderLoad(1, [["12345678", "0011"]], dated_now=True)
    load._started = 0.0
    _txn, body, _attempt = load._take()  # type: ignore[misc]
    sent = dt.datetime.strptime(json.loads(body)["transactionDate"], "%Y-%m-%d %H:%M:%S")
    vietnam_now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=7)
    assert abs((sent - vietnam_now).total_seconds()) < 5
