"""The live-receipts benchmark's figures: answers joined to receipts through
the payments' provider transaction ids, latency percentiles, lost,
duplicated and misrouted receipts, the baseline and the result rows."""

from __future__ import annotations

from typing import Any

from bench.stall_sse import percentile
from bench.webhooks_db import db_url

NAME = "live receipts"


def payments_by_txn(db: str) -> dict[int, tuple[int, int | None]]:
    """``{SePay transaction id: (payment id, vendor id)}`` of the benchmark's payments."""
    import psycopg

    with psycopg.connect(db_url(db), autocommit=True) as conn:
        rows = conn.execute("SELECT provider_txn_id, id, vendor_id FROM payments_payment WHERE source = 'sepay'")
        return {int(txn): (int(pid), vendor) for txn, pid, vendor in rows if str(txn).isdigit()}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def join(
    *,
    answers: list[tuple[float, float, int] | None],
    targets: list[int],
    first_id: int,
    warmup: int,
    streams: list[dict[str, Any]],
    by_txn: dict[int, tuple[int, int | None]],
    lost_after: float,
    injected: dict[int, tuple[int, float]] | None = None,
) -> dict[str, Any]:
    """Latencies (seconds, answered → first arrival on the vendor's stream) of
    the measured payments, and every way a receipt can go wrong; and of the
    probe's ``injected`` messages (id → (vendor, published at)), published →
    first arrival."""
    injected = injected or {}
    vendor_of = {pid: vendor for pid, vendor in by_txn.values()}
    vendor_of.update({fake: vendor for fake, (vendor, _) in injected.items()})
    # A refused stream fails for good (EventSource): its page would poll instead.
    failed_streams = {int(s["vendor_id"]) for s in streams if s.get("failed")}
    first_seen: dict[tuple[int, int], float] = {}  # (stream's vendor, payment) -> first arrival
    duplicates = misrouted = unexpected = 0
    for stream in streams:
        vendor = int(stream["vendor_id"])
        for pid, t, _ in stream["received"]:
            key = (vendor, int(pid))
            if key in first_seen:
                duplicates += 1
                continue
            first_seen[key] = t
            if pid not in vendor_of:
                unexpected += 1
            elif vendor_of[pid] != vendor:
                misrouted += 1
    through_server = [
        first_seen[(vendor, fake)] - published
        for fake, (vendor, published) in injected.items()
        if (vendor, fake) in first_seen
    ]
    latencies: list[float] = []
    answer_times: list[float] = []
    end_to_end: list[float] = []
    lost = late = failed = unrecorded = unattributed = unreachable = 0
    for k, answer in enumerate(answers):
        if answer is None or not 200 <= answer[2] < 300:
            failed += 1
            continue
        sent, answered, _ = answer
        payment = by_txn.get(first_id + k)
        if payment is None:
            unrecorded += 1
            continue
        pid, paid = payment
        if paid is None or paid != targets[k]:
            unattributed += 1
            continue
        seen = first_seen.get((paid, pid))
        if seen is None and paid in failed_streams:
            unreachable += 1
            continue
        if seen is None or seen - answered > lost_after:
            lost += 1
            late += seen is not None
            continue
        if k >= warmup:
            latencies.append(seen - answered)
            answer_times.append(answered - sent)
            end_to_end.append(seen - sent)
    return {
        "latencies": latencies,
        "answer_times": answer_times,
        "end_to_end": end_to_end,
        "lost": lost,
        "late": late,
        "failed": failed,
        "unrecorded": unrecorded,
        "unattributed": unattributed,
        "unreachable": unreachable,
        "duplicates": duplicates,
        "misrouted": misrouted,
        "unexpected": unexpected,
        "through_server": through_server,
        "injected": len(injected),
    }


def report(
    *,
    stalls: int,
    opened: int,
    rate: float,
    source: str,
    driven: dict[str, Any],
    targets: list[int],
    warmup: int,
    first_id: int,
    streams: list[dict[str, Any]],
    by_txn: dict[int, tuple[int, int | None]],
    probe: list[float],
    injected: dict[int, tuple[int, float]],
    server_cpu: float,
    workers: int,
    load: tuple[float, float],
    elapsed: float,
    lost_after: float,
    target_ms: int,
) -> list[dict[str, Any]]:
    j = join(
        answers=driven["answers"],
        targets=targets,
        first_id=first_id,
        warmup=warmup,
        streams=streams,
        by_txn=by_txn,
        lost_after=lost_after,
        injected=injected,
    )
    lat = j["latencies"]
    p50, p95, p99 = (_ms(percentile(lat, q)) for q in (50, 95, 99))
    a50, a95 = (_ms(percentile(j["answer_times"], q)) for q in (50, 95))
    e50, e95 = (_ms(percentile(j["end_to_end"], q)) for q in (50, 95))
    b50, b95 = (_round(percentile(probe, q)) for q in (50, 95))  # bare Redis, already ms
    s50, s95, s99 = (_ms(percentile(j["through_server"], q)) for q in (50, 95, 99))
    # The baseline is the bank's own wait for the same deliveries (sent → answered):
    # answered → receipt is ~0 by construction (both follow the same commit),
    # so the meaningful ratio is when the page learns of the payment (sent →
    # receipt) against when the bank does (sent → answer).
    ratio = round(e95 / a95, 2) if e95 is not None and a95 else None
    reconnects = sum(max(0, int(s["opened"]) - 1) for s in streams)
    stream_errors = sum(int(s["error_count"]) for s in streams)
    keepalives = sum(int(s["keepalives"]) for s in streams)
    recorded = len(driven["answers"]) - j["failed"] - j["unrecorded"]
    statuses: dict[int, int] = {}
    for answer in driven["answers"]:
        status = answer[2] if answer else 0
        statuses[status] = statuses.get(status, 0) + 1
    wrong = (
        j["lost"] + j["duplicates"] + j["misrouted"] + j["failed"] + j["unrecorded"] + j["unattributed"]
        + j["unreachable"]
    )  # fmt: skip
    refused = sum(1 for s in streams if s.get("failed"))
    open_at_end = sum(1 for s in streams if s.get("open_at_end"))
    load_note = f"load average {load[0]:.1f}→{load[1]:.1f} (shared 2-core machine)"
    shape = f"gunicorn -w {workers} uvicorn (config.asgi), {opened}/{stalls} streams"
    common = (
        f"{len(lat)} receipts measured (after a {warmup}-payment warm-up) of {recorded} recorded; "
        f"driven {driven['rate']:,.0f}/s (intake rate {rate:,.0f}/s from {source}); {shape}; {load_note}"
    )
    ok_all = wrong == 0 and opened == stalls and open_at_end == stalls and bool(lat)
    server_ms = round(server_cpu / recorded * 1000, 2) if recorded else None
    name = f"{NAME}: webhook answered → receipt on the stall's event stream ({stalls} streams)"
    return [
        {"name": f"{name}, p50", "value": p50, "unit": "ms", "target": "—", "ok": ok_all, "note": common},
        {
            "name": f"{name}, p95",
            "value": p95,
            "unit": "ms",
            "target": f"<= {target_ms}",
            "ok": ok_all and p95 is not None and p95 <= target_ms,
            "baseline": f"the same webhooks' answer time (sent → answered): p95 {a95} ms",
            "ratio": ratio,
            "ratio_of": "webhook sent → receipt on the page ÷ sent → answered, p95",
            "note": (
                f"p50 {p50} ms, p99 {p99} ms, min {_ms(min(lat)) if lat else None} ms (a receipt can reach "
                f"the page before the bank's answer reaches the bank); baseline, the same webhooks' answer time "
                f"p95 {a95} ms: webhook sent → receipt p95 {e95} ms, ratio {ratio}x; server fan-out alone "
                f"(PUBLISH → stream, no payment) p95 {s95} ms; bare Redis p95 {b95} ms; {common}"
            ),
        },
        {"name": f"{name}, p99", "value": p99, "unit": "ms", "target": "—", "ok": ok_all, "note": common},
        {
            "name": f"{NAME}: signed credits driven while {opened} streams are open",
            "value": round(driven["rate"]),
            "unit": "payments/s",
            "target": f"= intake rate {rate:,.0f}",
            "ok": driven["rate"] >= 0.95 * rate,
            "note": (
                f"open loop, {driven['connections']} keep-alive connections, the most late request {driven['behind_s'] * 1000:.0f} ms behind its "
                f"schedule; answers p50 {a50} ms, p95 {a95} ms; {j['failed']} not answered 2xx (answers by status, 0 = none: {dict(sorted(statuses.items()))}); "
                f"server CPU {server_ms} ms/payment (master + workers); {load_note}"
            ),
        },
        {
            "name": f"{NAME}: event streams open at once",
            "value": opened,
            "unit": "streams",
            "target": f"= {stalls}",
            "ok": opened == stalls and open_at_end == stalls,
            "note": (
                f"{open_at_end} still open at the end; one signed-in vendor each (session cookie, ?cursor= as the page); {refused} refused (failed for "
                f"good, as EventSource does; {j['unreachable']} receipts for them not counted as lost); "
                f"{reconnects} reconnections, "
                f"{stream_errors} stream errors, {keepalives} keepalive comments seen"
            ),
        },
        {
            "name": f"{NAME}: receipts lost (not on the vendor's stream within {lost_after:.0f} s of the answer)",
            "value": j["lost"],
            "unit": "receipts",
            "target": "= 0",
            "ok": j["lost"] == 0,
            "note": (
                f"{j['late']} of them arrived later; {j['misrouted']} on another vendor's stream; "
                f"{j['unrecorded']} answered but not recorded; {j['unattributed']} recorded for another vendor; "
                f"{j['unexpected']} receipts of payments not driven here"
            ),
        },
        {
            "name": f"{NAME}: receipts duplicated on a stream",
            "value": j["duplicates"],
            "unit": "receipts",
            "target": "= 0",
            "ok": j["duplicates"] == 0,
            "note": f"over {sum(len(s['received']) for s in streams)} receipts received",
        },
        {
            "name": f"{NAME}: baseline, the same webhooks' answer time (sent → answered), p95",
            "value": a95,
            "unit": "ms",
            "target": "(baseline)",
            "ok": a95 is not None,
            "note": (
                f"p50 {a50} ms; webhook sent → receipt on the page p50 {e50} ms, p95 {e95} ms: {ratio}x the "
                f"answer time (1x: the page knows when the bank does). Where the time goes: server fan-out "
                f"alone (receipt messages that are no payment PUBLISHed on the server's channel every 20 ms, "
                f"{len(j['through_server'])} of {j['injected']} arrived) p50 {s50} ms, p95 {s95} ms, p99 {s99} ms; "
                f"bare Redis PUBLISH→subscriber p50 {b50} ms, p95 {b95} ms over {len(probe)}; "
                f"whole benchmark {elapsed:.0f} s"
            ),
        },
    ]
