"""The resume cursor (payments/receipts/cursor.py): encoding, defensive
parsing, and the property that matters: whatever order payments commit in,
whatever Redis loses and however often the phone drops, every receipt
reaches the phone exactly once across its connections."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.receipts.cursor import SETTLE, Cursor


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Pure code: no cache to empty, no test database to make (as tests/chopay)."""


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    """No reference data either."""


T0 = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)


def test_it_encodes_the_watermark_alone_or_with_the_ids_above_it() -> None:
    assert Cursor().encode() == "0"
    assert Cursor(41).encode() == "41"
    assert Cursor(41, frozenset({50, 43})).encode() == "41-43.50"


@given(st.integers(0, 2**62), st.frozensets(st.integers(1, 2**62), max_size=30))
def test_it_parses_what_it_encodes(watermark: int, above: frozenset[int]) -> None:
    cursor = Cursor(watermark, frozenset(i for i in above if i > watermark))
    assert Cursor.parse(cursor.encode()) == cursor


def test_it_reads_garbage_as_the_start_of_the_day() -> None:
    for text in (None, "", "abc", "-1", "12-", "12-a.b", "1e5", "12-3..4", "9" * 40, "1-" + ".".join(["5"] * 2000)):
        assert Cursor.parse(text) == Cursor(), text


def test_ids_at_or_below_the_watermark_in_a_parsed_cursor_are_dropped() -> None:
    assert Cursor.parse("10-3.10.11") == Cursor(10, frozenset({11}))


def test_it_settles_only_ids_recorded_a_minute_before_the_read() -> None:
    cursor = Cursor(0, frozenset({5, 7, 9}))
    recorded = {5: T0, 7: T0 + dt.timedelta(seconds=10), 9: T0 + dt.timedelta(seconds=30)}
    assert cursor.settled(recorded, read_at=T0 + dt.timedelta(seconds=69)) == Cursor(5, frozenset({7, 9}))
    assert cursor.settled(recorded, read_at=T0 + dt.timedelta(seconds=70)) == Cursor(7, frozenset({9}))
    assert cursor.settled({}, read_at=T0 + dt.timedelta(hours=1)) == cursor  # times unknown: kept


# --- the property ---------------------------------------------------------------------


@st.composite
def days(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int], list[bool], list[bool]]:
    """Payments as (recorded second, commit delay < SETTLE) with ids in the
    order they were drawn; which Redis messages are lost; which seconds the
    phone is connected; at which seconds the stream re-reads the ledger."""
    n = draw(st.integers(1, 25))
    recorded = sorted(draw(st.lists(st.integers(0, 200), min_size=n, max_size=n)))
    delays = draw(st.lists(st.integers(0, int(SETTLE.total_seconds()) - 1), min_size=n, max_size=n))
    lost = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    horizon = 300
    connected = draw(st.lists(st.booleans(), min_size=horizon, max_size=horizon))
    rereads = draw(st.lists(st.booleans(), min_size=horizon, max_size=horizon))
    payments = list(zip(recorded, delays, strict=True))
    return payments, [i for i, gone in enumerate(lost) if gone], connected, rereads


@settings(max_examples=300, deadline=None)
@given(days())
def test_no_receipt_is_lost_or_repeated_whatever_the_commit_order_and_the_drops(day) -> None:  # type: ignore[no-untyped-def]
    payments, lost, connected, rereads = day
    ids = list(range(1, len(payments) + 1))  # drawn in recording order
    recorded_at = {i: T0 + dt.timedelta(seconds=r) for i, (r, _) in zip(ids, payments, strict=True)}
    committed_at = {i: r + d for i, (r, d) in zip(ids, payments, strict=True)}
    lost_ids = {ids[i] for i in lost}

    received: list[int] = []
    phone_cursor = Cursor()  # the last event id the phone got (EventSource's Last-Event-ID)
    stream: Cursor | None = None  # the server's cursor of the open connection, if any
    known: dict[int, dt.datetime] = {}

    def deliver(payment_id: int) -> None:
        nonlocal stream, phone_cursor
        assert stream is not None
        received.append(payment_id)
        stream = stream.with_delivered([payment_id])
        known[payment_id] = recorded_at[payment_id]
        phone_cursor = stream  # the event carries the cursor as its id

    def ledger_read(second: int) -> None:
        nonlocal stream
        assert stream is not None
        for i in ids:
            if committed_at[i] < second and not stream.covers(i):  # committed before the read began
                deliver(i)
        stream = stream.settled(known, read_at=T0 + dt.timedelta(seconds=second))

    for second, (online, reread) in enumerate(zip(connected, rereads, strict=True)):
        if online and stream is None:  # (re)connect: subscribe, then read the ledger
            stream, known = phone_cursor, {}
            ledger_read(second)
        elif not online:
            stream = None
        if stream is not None:
            for i in ids:  # this second's commits, published after commit
                if committed_at[i] == second and i not in lost_ids and not stream.covers(i):
                    deliver(i)
            if reread:
                ledger_read(second + 1)
    # Finally the phone is back for good, after everything committed.
    stream, known = phone_cursor, {}
    ledger_read(10_000)

    assert sorted(received) == ids
