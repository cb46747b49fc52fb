"""What the two PostgreSQL drills (pg_restart, pg_freeze) share: a load of
signed SePay credits on one lane with a database fault in its middle, and the
reading of what came of it.

A phase: gunicorn serves one lane (``wsgi``: the compose `web` service's
sync workers; ``asgi``: the `webhooks` service's batching intake); providers
send unique credits at a steady rate and retry every failure on their
(compressed) schedule; after ``before`` seconds the fault starts (PostgreSQL
stopped — ``fast``, or ``immediate``, a crash — or frozen with SIGSTOP), it
lasts ``down`` seconds, then PostgreSQL is back and the load goes on for
``after`` seconds; then only the retries run, until every delivery was
answered 200 or gave up. The same gunicorn serves the whole phase: nobody
restarts it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from drills.providers import PATH, Answer, LoadReport, ProviderLoad, recorded
from drills.report import DrillResult
from drills.services import ScratchPostgres, Stack, children, manage

PROVIDER_TIMEOUT = 10.0  # seconds a provider waits for an answer (the load's HTTP timeout)

LANES = {
    "wsgi": "WSGI lane (gunicorn config.wsgi, sync workers: compose `web`)",
    "asgi": "ASGI intake (gunicorn config.asgi, uvicorn workers, batches: compose `webhooks`)",
}

FAULTS: dict[str, tuple[str, Callable[[ScratchPostgres], None], Callable[[ScratchPostgres], None]]] = {
    "stop-fast": ("stopped (pg_ctl -m fast)", lambda pg: pg.stop("fast"), lambda pg: pg.start()),
    "stop-immediate": ("crashed (pg_ctl -m immediate)", lambda pg: pg.stop("immediate"), lambda pg: pg.start()),
    "freeze": ("frozen (SIGSTOP)", lambda pg: pg.freeze(), lambda pg: pg.thaw()),
}


@dataclass
class Phase:
    lane: str
    fault: str
    load: LoadReport
    ids: range
    fault_at: float  # monotonic: the fault began
    down_at: float  # monotonic: the fault is complete (PostgreSQL stopped / frozen)
    back_at: float  # monotonic: PostgreSQL accepts again / was thawed
    fault_wall: tuple[float, float]  # the same [fault_at, back_at] in wall-clock time
    pids_before: list[int]
    pids_after: list[int]
    master_alive: bool
    recorded: int = 0
    duplicates: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # WebhookDelivery status → rows of this phase
    stranded: list[int] = field(default_factory=list)  # txn ids of rows left 'received'
    server_errors: int = 0  # "Internal Server Error" lines in the server's log

    @property
    def label(self) -> str:
        return f"{self.lane.upper()}, {self.fault}"

    def during(self) -> list[Answer]:
        """Answers to requests sent while the fault lasted."""
        return [a for a in self.load.answers if self.fault_at <= a.at <= self.back_at]

    def after(self) -> list[Answer]:
        return [a for a in self.load.answers if a.at > self.back_at]


def run_phase(
    stack: Stack,
    lane: str,
    fault: str,
    *,
    first_id: int,
    before: float = 8.0,
    down: float = 6.0,
    after: float = 8.0,
    rate: float = 60.0,
    threads: int = 16,
    workers: int = 2,
    drain: float = 150.0,
    **env: str,
) -> Phase:
    """One lane, one fault, under load; then the providers' retries (see the module's docstring)."""
    _title, begin, end = FAULTS[fault]
    with stack.server(lane, workers=workers, **env) as server:  # type: ignore[arg-type]  # env: str values only
        log_lines = len(_log_lines(server.log_path))
        load = ProviderLoad(
            server.port, stack.codes, first_id=first_id, threads=threads, rate=rate, timeout=PROVIDER_TIMEOUT
        )
        sender = threading.Thread(target=load.run, args=(3600.0,), kwargs={"drain": drain}, daemon=True)
        sender.start()
        time.sleep(before)
        pids_before = sorted([server.pid, *children(server.pid)])  # every worker is up by now
        fault_at, fault_wall = time.monotonic(), time.time()
        begin(stack.postgres)
        down_at = time.monotonic()
        time.sleep(max(0.0, down - (down_at - fault_at)))
        end(stack.postgres)
        back_at, back_wall = time.monotonic(), time.time()
        time.sleep(after)
        load.stop_new()
        sender.join(timeout=drain + 60)
        pids_after = sorted([server.pid, *children(server.pid)])
        phase = Phase(
            lane=lane,
            fault=fault,
            load=load.report,
            ids=load.ids(),
            fault_at=fault_at,
            down_at=down_at,
            back_at=back_at,
            fault_wall=(fault_wall, back_wall),
            pids_before=pids_before,
            pids_after=pids_after,
            master_alive=server.alive(),
        )
        phase.server_errors = _count_in_log(server.log_path, log_lines, "Internal Server Error")
    phase.recorded, phase.duplicates = recorded(stack.postgres.query, phase.ids)
    rows = stack.postgres.query(
        "SELECT status, (body::jsonb->>'id')::bigint FROM payments_webhookdelivery"
        " WHERE source = 'sepay' AND (body::jsonb->>'id')::bigint BETWEEN %s AND %s",
        [phase.ids.start, phase.ids.stop - 1],
    )
    phase.deliveries = Counter(status for status, _txn in rows)
    phase.stranded = sorted(int(txn) for status, txn in rows if status == "received")
    return phase


def _log_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _count_in_log(path: Path, skip: int, needle: str) -> int:
    return sum(needle in line for line in _log_lines(path)[skip:])


def sweep_stranded(stack: Stack, result: DrillResult, stranded: int) -> None:
    """Run the periodic task that marks deliveries left ``received`` as failed
    (at once, not 10 minutes later) and check that it leaves none."""
    marked = manage(
        stack.env(),
        "shell",
        "-c",
        "import datetime as dt; from payments.bank_credits.ingest import webhook_deliveries_mark_stuck as m;"
        " print(m(older_than=dt.timedelta(0)))",
    ).split()[-1]  # (after the shell's note on what it imported)
    left = stack.postgres.query("SELECT count(*) FROM payments_webhookdelivery WHERE status = 'received'")[0][0]
    result.figures["deliveries left `received`, marked `failed` by the sweep"] = f"{stranded}, {marked}"
    result.check(int(marked) == stranded and left == 0, f"the sweep marked {marked} of {stranded}; {left} left")


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def judge(result: DrillResult, phase: Phase) -> None:
    """Add ``phase``'s counts, figures, 5xx lines and checks to ``result``."""
    rep, label = phase.load, phase.label
    result.requests_sent += rep.sent
    result.payments_expected = (result.payments_expected or 0) + rep.unique
    result.payments_recorded = (result.payments_recorded or 0) + phase.recorded
    result.duplicates = (result.duplicates or 0) + phase.duplicates

    statuses = rep.statuses()
    during, after = phase.during(), phase.after()
    slowest_during = max((a.seconds for a in during), default=0.0)
    fresh_after = [a for a in after if a.attempt == 1]
    first_ok = min((a.at + a.seconds for a in after if a.status == 200), default=None)
    last_bad = max((a.at + a.seconds for a in fresh_after if a.status != 200), default=None)

    # Every 5xx, grouped by cause and by whether PostgreSQL was out at the time.
    groups: Counter[str] = Counter()
    for a in rep.answers:
        if a.status >= 500:
            when = "PostgreSQL out" if phase.fault_at <= a.at <= phase.back_at else "PostgreSQL back"
            groups[f"{a.status} POST {PATH}: {a.detail} [{label}, {when}]"] += 1
    result.errors_5xx.extend(f"{line} ×{n}" for line, n in sorted(groups.items()))
    result.five_xx = (result.five_xx or 0) + sum(groups.values())

    result.figures[f"{label}: requests / unique deliveries / recorded / duplicates"] = (
        f"{rep.sent} / {rep.unique} / {phase.recorded} / {phase.duplicates}"
    )
    result.figures[f"{label}: answers"] = ", ".join(
        f"{'no answer' if s == 0 else s} ×{n}" for s, n in sorted(statuses.items())
    )
    result.figures[f"{label}: PostgreSQL {FAULTS[phase.fault][0]} for"] = _s(phase.back_at - phase.fault_at)
    result.figures[f"{label}: slowest answer while it was out / overall"] = (
        f"{_s(slowest_during)} / {_s(rep.slowest())}"
    )
    result.figures[f"{label}: first 200 after PostgreSQL was back"] = (
        "none" if first_ok is None else _s(max(0.0, first_ok - phase.back_at))
    )
    result.figures[f"{label}: new deliveries all answered 200 again after"] = (
        _s(0.0) if last_bad is None else _s(max(0.0, last_bad - phase.back_at))
    )
    result.figures[f"{label}: delivery rows by status"] = ", ".join(
        f"{s} {n}" for s, n in sorted(phase.deliveries.items())
    )

    result.check(statuses.get(500, 0) == 0, f"{label}: {statuses.get(500, 0)} answers were 500")
    other_5xx = sum(n for s, n in statuses.items() if s >= 500 and s not in (500, 503))
    result.check(other_5xx == 0, f"{label}: {other_5xx} answers were 5xx other than 500/503")
    no_retry_after = sum(1 for a in rep.answers if a.status == 503 and "Retry-After" not in a.detail)
    result.check(no_retry_after == 0, f"{label}: {no_retry_after} answers were 503 without Retry-After")
    hung = [a for a in rep.answers if a.status == 0 or a.seconds >= PROVIDER_TIMEOUT]
    result.check(
        not hung,
        f"{label}: {len(hung)} requests got no answer within the providers' {PROVIDER_TIMEOUT:.0f} s"
        + (f" (e.g. {hung[0].detail or 'answered after'} {hung[0].seconds:.1f} s)" if hung else ""),
    )
    result.check(phase.master_alive, f"{label}: the gunicorn master died")
    result.check(
        phase.pids_before == phase.pids_after,
        f"{label}: gunicorn's processes changed ({phase.pids_before} → {phase.pids_after}): a worker was replaced",
    )
    result.check(first_ok is not None, f"{label}: no 200 at all after PostgreSQL was back")
    result.check(not rep.gave_up, f"{label}: {len(rep.gave_up)} deliveries were never answered 200 (providers gave up)")
    result.check(
        phase.recorded == rep.unique,
        f"{label}: {phase.recorded} payments recorded for {rep.unique} unique deliveries",
    )
    result.check(phase.duplicates == 0, f"{label}: {phase.duplicates} payments recorded twice")
    result.check(phase.server_errors == 0, f"{label}: {phase.server_errors} 'Internal Server Error' in the server log")
    processed = phase.deliveries.get("processed", 0)
    result.check(
        processed == phase.recorded,
        f"{label}: {processed} deliveries 'processed' for {phase.recorded} payments",
    )
    if phase.stranded and phase.recorded == rep.unique:
        result.notes.append(
            f"{label}: {len(phase.stranded)} stored deliveries were left `received`: their request was cut off"
            " by the fault after the raw row was committed and before the outcome could be. The provider got no"
            " 200, retried, and the retry recorded the payment (each of them is counted in 'recorded' above);"
            " the periodic task `payments.mark_stuck_webhook_deliveries` marks such rows `failed` after 10 minutes"
            " (the drill runs it at once at the end: see the figures)."
        )
