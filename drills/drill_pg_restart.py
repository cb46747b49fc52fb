"""PostgreSQL stopped and started again in the middle of a webhook load, on
the WSGI lane and on the ASGI batching intake; cleanly (``fast``) and as a
crash (``immediate``). See drills/pg_outage.py for the phases and checks."""

from __future__ import annotations

from drills.pg_outage import LANES, judge, run_phase, sweep_stranded
from drills.report import DrillResult
from drills.services import Stack

TITLE = "PostgreSQL restarted under webhook load"
QUICK = False

DOWN = 6.0  # seconds PostgreSQL stays stopped


def run() -> DrillResult:
    result = DrillResult(name="pg_restart", title=TITLE)
    first_id = 1_000_000
    stranded = 0
    with Stack(vendors=100, name="pgrestart") as stack:
        for lane in ("wsgi", "asgi"):
            for fault in ("stop-fast", "stop-immediate"):
                phase = run_phase(stack, lane, fault, first_id=first_id, down=DOWN)
                judge(result, phase)
                stranded += len(phase.stranded)
                first_id = phase.ids.stop + 1000
        sweep_stranded(stack, result, stranded)
    result.notes.insert(
        0,
        "Four phases, each on a gunicorn started for it and never restarted: the "
        + " and the ".join(LANES.values())
        + f"; on each, PostgreSQL stopped cleanly (`pg_ctl stop -m fast`) and then crashed (`-m immediate`),"
        f" {DOWN:.0f} s each time, after 8 s of SePay credits at 60 a second (16 provider connections), the load"
        " going on for 8 s once PostgreSQL was back, then the providers' retries (1, 2, 4, 8, 15, 30, 60 s) until"
        " every delivery was answered 200. While the database is out, the expected answer is 503 with Retry-After;"
        " a 500, no answer within the providers' 10 s, a replaced worker, a lost or a doubled payment fail the drill.",
    )
    return result.finish()
