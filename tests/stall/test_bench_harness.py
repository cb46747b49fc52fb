"""The live-receipts benchmark's own arithmetic and parsing (bench/stall_sse.py,
bench/stall_report.py): a wrong percentile or a mis-read event stream would
make its figures lie, whatever the server does."""

from __future__ import annotations

import json

import pytest

from bench.stall_report import join
from bench.stall_sse import ChunkedDecoder, SSEParser, percentile, request_bytes


# Pure code: the project-wide autouse fixtures (empty the cache, reload
# reference data) are replaced here by ones that need no test database.
@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """No cache here."""


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    """No database here."""


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 50) == 2  # unsorted input
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile([1, 2, 3, 4], 95) == 4
    assert percentile([], 95) is None


def test_receipt_event_with_id_and_json_data():
    parser = SSEParser()
    data = {"id": 42, "amount": 64000, "today": {"count": 3, "value": 150000}}
    events = parser.feed(f"id: 41-42\nevent: receipt\ndata: {json.dumps(data)}\n\n".encode())
    assert len(events) == 1
    assert events[0].event == "receipt"
    assert events[0].id == "41-42"
    assert json.loads(events[0].data) == data
    assert parser.last_id == "41-42"


def test_multi_line_data_is_joined_with_newlines():
    events = SSEParser().feed(b'event: receipt\ndata: {"id": 1,\ndata:  "amount": 2}\n\n')
    assert events[0].data == '{"id": 1,\n "amount": 2}'  # one leading space stripped, the second kept
    assert json.loads(events[0].data) == {"id": 1, "amount": 2}


def test_comments_are_keepalives_not_events():
    parser = SSEParser()
    events = parser.feed(b": ping\n\n: ping\n\nretry: 3000\n\n")
    assert events == []
    assert parser.comments == 2


def test_event_split_across_reads_and_line_ends_crlf_or_cr():
    parser = SSEParser()
    stream = b'id: 7\r\nevent: receipt\r\ndata: {"id": 7}\r\n\r\nid: 8\revent: receipt\rdata: {"id": 8}\r\r'
    events = []
    for i in range(len(stream)):  # one byte at a time: every split, the CR|LF one included
        events += parser.feed(stream[i : i + 1])
    assert [(e.id, e.event, json.loads(e.data)["id"]) for e in events] == [("7", "receipt", 7), ("8", "receipt", 8)]


def test_event_without_data_is_not_dispatched_but_its_id_is_kept():
    parser = SSEParser()
    assert parser.feed(b"id: 99\n\n") == []
    assert parser.last_id == "99"
    events = parser.feed(b"data: x\n\n")
    assert events[0].event == "message"
    assert events[0].id == "99"


def test_chunked_decoder_across_any_split():
    body = b"id: 1\nevent: receipt\ndata: {}\n\n: ping\n\n"
    wire = (
        b"".join(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    )
    for split in range(len(wire) + 1):
        decoder = ChunkedDecoder()
        out = decoder.feed(wire[:split]) + decoder.feed(wire[split:])
        assert out == body
        assert decoder.done


def test_stream_request_sends_the_cookie_and_the_cursor_first_then_last_event_id():
    first = request_bytes(8000, "sessionid=abc", None, "12-13.14").decode()
    assert first.startswith("GET /stall/events/?cursor=12-13.14 HTTP/1.1\r\n")
    assert "Cookie: sessionid=abc\r\n" in first
    again = request_bytes(8000, "sessionid=abc", "15", "12-13.14").decode()
    assert again.startswith("GET /stall/events/ HTTP/1.1\r\n")
    assert "Last-Event-ID: 15\r\n" in again


@pytest.fixture
def run_data():
    # Three credits: txn 100 → vendor 1 (payment 10), 101 → vendor 2 (payment 11), 102 → vendor 1 (payment 12).
    answers = [(0.0, 1.0, 200), (0.0, 2.0, 200), (0.0, 3.0, 200)]
    targets = [1, 2, 1]
    by_txn = {100: (10, 1), 101: (11, 2), 102: (12, 1)}
    return answers, targets, by_txn


def test_join_measures_from_the_answer_and_finds_every_fault(run_data):
    answers, targets, by_txn = run_data
    streams = [
        {"vendor_id": 1, "received": [(10, 1.2, "10"), (10, 1.3, "10"), (12, 14.0, "12"), (11, 2.1, "11")]},
        {"vendor_id": 2, "received": [(11, 1.9, "11"), (99, 2.0, "99")]},
    ]
    result = join(
        answers=answers, targets=targets, first_id=100, warmup=0, streams=streams, by_txn=by_txn, lost_after=10
    )
    assert result["latencies"] == pytest.approx([0.2, -0.1])  # 11 reached the page before the bank had its answer
    assert result["duplicates"] == 1
    assert result["misrouted"] == 1  # payment 11 on vendor 1's stream
    assert result["unexpected"] == 1  # payment 99 was not driven
    assert result["lost"] == 1 and result["late"] == 1  # payment 12, 11 s after its answer


def test_join_leaves_out_the_warm_up_and_counts_unanswered(run_data):
    answers, targets, by_txn = run_data
    answers[2] = (0.0, 3.0, 500)
    streams = [{"vendor_id": 1, "received": [(10, 1.5, "10")]}, {"vendor_id": 2, "received": [(11, 2.5, "11")]}]
    result = join(
        answers=answers, targets=targets, first_id=100, warmup=1, streams=streams, by_txn=by_txn, lost_after=10
    )
    assert result["latencies"] == pytest.approx([0.5])
    assert result["failed"] == 1
    assert result["lost"] == 0


def test_retry_field_sets_the_reconnection_delay():
    parser = SSEParser()
    assert parser.feed(b"retry: 3000\n\nretry: soon\n\n") == []
    assert parser.retry_ms == 3000


def test_receipts_of_a_refused_stream_are_unreachable_not_lost(run_data):
    answers, targets, by_txn = run_data
    streams = [
        {"vendor_id": 1, "received": [(10, 1.1, "10"), (12, 3.1, "12")]},
        {"vendor_id": 2, "received": [], "failed": True},
    ]
    result = join(
        answers=answers, targets=targets, first_id=100, warmup=0, streams=streams, by_txn=by_txn, lost_after=10
    )
    assert result["unreachable"] == 1
    assert result["lost"] == 0
    assert result["latencies"] == pytest.approx([0.1, 0.1])


def test_probe_messages_are_timed_from_their_publish_and_not_unexpected(run_data):
    answers, targets, by_txn = run_data
    fake = 10**15
    streams = [
        {"vendor_id": 1, "received": [(10, 1.1, "10"), (12, 3.1, "12"), (fake, 5.004, "x")]},
        {"vendor_id": 2, "received": [(11, 2.1, "11")]},
    ]
    result = join(
        answers=answers,
        targets=targets,
        first_id=100,
        warmup=0,
        streams=streams,
        by_txn=by_txn,
        lost_after=10,
        injected={fake: (1, 5.0), fake + 1: (2, 5.02)},  # the second never arrived
    )
    assert result["through_server"] == pytest.approx([0.004])
    assert result["injected"] == 2
    assert result["unexpected"] == 0
    assert result["misrouted"] == 0
