"""PostgreSQL frozen (SIGSTOP of the postmaster and every backend) for 30 s
in the middle of a webhook load: connections stay open and nothing answers.
The intake first, then the WSGI lane. See drills/pg_outage.py."""

from __future__ import annotations

from drills.pg_outage import LANES, judge, run_phase, sweep_stranded
from drills.report import DrillResult
from drills.services import Stack

TITLE = "PostgreSQL frozen (SIGSTOP) under webhook load"
QUICK = False

FROZEN = 30.0  # seconds


def run() -> DrillResult:
    result = DrillResult(name="pg_freeze", title=TITLE)
    first_id = 2_000_000
    stranded = 0
    with Stack(vendors=100, name="pgfreeze") as stack:
        for lane in ("asgi", "wsgi"):
            phase = run_phase(stack, lane, "freeze", first_id=first_id, down=FROZEN)
            judge(result, phase)
            stranded += len(phase.stranded)
            first_id = phase.ids.stop + 1000
        sweep_stranded(stack, result, stranded)
    result.notes.insert(
        0,
        f"Two phases, each on a gunicorn started for it and never restarted: the {LANES['asgi']} and the"
        f" {LANES['wsgi']}. After 8 s of SePay credits at 60 a second (16 provider connections) every"
        f" PostgreSQL process is stopped with SIGSTOP for {FROZEN:.0f} s (open connections stay open, new ones"
        " are accepted by the kernel and never answered: a hung server, not a refusing one), then SIGCONT; the"
        " load goes on for 8 s, then the providers' retries (1, 2, 4, 8, 15, 30, 60 s) until every delivery was"
        " answered 200. Every request must be answered within the providers' 10 s — 503 with Retry-After while"
        " the database hangs — and after the retries the payments recorded must equal the unique deliveries.",
    )
    result.notes.append(
        "What this drill found (2026-12-07) and what was changed: with PostgreSQL frozen for 15 s, no delivery"
        " sent during the freeze was answered within 10 s on either lane (the intake's writer and the WSGI"
        " lane's sync workers waited for the frozen server: `statement_timeout` is the server's and cannot"
        " fire). Now every wait of a webhook lane for PostgreSQL ends after `WEBHOOK_ANSWER_WITHIN` (6 s) with"
        " 503 + Retry-After (`common.database.answer_deadline`, backend `common.postgresql`); the intake also"
        " bounds each delivery's wait for its batch, and a WSGI worker whose delivery waited in vain answers"
        " the next 2 s of deliveries 503 at once instead of queueing them behind the hang (docs/webhooks.md,"
        " 'When PostgreSQL is down, restarts or hangs')."
    )
    return result.finish()
