"""A Celery worker killed with SIGKILL in the middle of a task.

The task: ``payments.render_market_cards``, which writes a market's stall-card
PDF (four cards per A4 page) and its progress into the ``CardBatch`` row — a
task that takes seconds, with an effect anyone can count. The batch is asked
for the way the API does (``card_batch_request``: the row, then the task
enqueued on commit). Once the row shows progress (the task is mid-render),
the drill kills:

1. the pool process running the task (as the kernel's OOM killer would):
   the worker sees its child die and, with ``task_reject_on_worker_lost``,
   puts the message back at once; a new child runs it again;
2. the whole worker, main process and children (a lost container or
   machine): the message stays unacknowledged in Redis (``acks_late``) and a
   NEW worker gets it after the transport's ``visibility_timeout``. The drill
   runs the workers with CELERY_VISIBILITY_TIMEOUT=VISIBILITY seconds so as
   not to wait the production value (900 s, config/settings.py).

Each time the effect must happen once: one batch, done, its count equal to
the market's cards, one PDF with that many cards, the task received again
exactly once after the kill.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from drills.report import DrillResult
from drills.services import PYTHON, ROOT, Process, Stack, children

TITLE = "A Celery worker killed with SIGKILL mid-task"
QUICK = False

CARDS = 1200  # vendors of the market: the PDF's cards
VISIBILITY = 45  # s: the drill's CELERY_VISIBILITY_TIMEOUT (production: 900)
BOUND = 300.0  # s after a kill: the task must be done by then

REQUEST = """
import json
from django.contrib.auth import get_user_model
from market.models import Market
from payments.cards.services import card_batch_request
actor = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
    "drill-admin", password="drill-only-not-a-password")
batch, created = card_batch_request(actor=actor, market=Market.objects.order_by("pk").first())
print(json.dumps({"batch": batch.pk, "created": created, "total": batch.total}))
"""


def _request_batch(stack: Stack, env: dict[str, str]) -> dict[str, Any]:
    import subprocess

    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", REQUEST],
        cwd=ROOT,
        env=stack.env(**env),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _batch(stack: Stack, batch_id: int) -> tuple[str, int, int, str]:
    row = stack.postgres.query("SELECT status, done, total, file FROM payments_cardbatch WHERE id = %s", [batch_id])
    status, done, total, file = row[0]
    return str(status), int(done), int(total), str(file)


def _wait(stack: Stack, batch_id: int, until: Any, timeout: float) -> tuple[float | None, tuple[str, int, int, str]]:
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        state = _batch(stack, batch_id)
        if until(state):
            return time.monotonic() - started, state
        time.sleep(0.2)
    return None, _batch(stack, batch_id)


def _received(log: str, batch_id: int) -> list[str]:
    """The worker's 'Task payments.render_market_cards[id] received' lines
    (a worker log holds this batch's task only: one batch per scenario)."""
    del batch_id
    return [line for line in log.splitlines() if "payments.render_market_cards[" in line and " received" in line]


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def _log(process: Process) -> str:
    try:
        return process.log_path.read_text(errors="replace")
    except OSError:
        return ""


def _check_effect(result: DrillResult, stack: Stack, media: Path, batch_id: int, label: str) -> str:
    status, done, total, file = _batch(stack, batch_id)
    batches = int(stack.postgres.query("SELECT count(*) FROM payments_cardbatch")[0][0])
    pdfs = sorted(p.name for p in (media / "cards").glob(f"*-batch-{batch_id}.pdf"))
    parts = sorted(p.name for p in (media / "cards").glob(f"*-batch-{batch_id}.pdf*.part"))
    pages = _pages(media / file) if file and (media / file).exists() else 0
    result.check(status == "done", f"{label}: the batch ended {status!r}")
    result.check(done == total == CARDS, f"{label}: done {done} of {total}, the market has {CARDS} cards")
    result.check(len(pdfs) == 1, f"{label}: PDFs of the batch: {pdfs}")
    result.check(pages == -(-CARDS // 4), f"{label}: the PDF has {pages} pages, {-(-CARDS // 4)} expected")
    return (
        f"batch {status}, {done}/{total} cards, {len(pdfs)} PDF of {pages} pages (4 cards a page),"
        f" {len(parts)} partial file(s) left by the killed run (purged by purge_card_batches), {batches} batch row(s) in all"
    )


def _pool_kill(result: DrillResult, stack: Stack, media: Path, env: dict[str, str]) -> None:
    with stack.worker(concurrency=1, name="celery-pool", **env) as worker:
        _ready(worker)
        batch = _request_batch(stack, env)["batch"]
        seen, state = _wait(stack, batch, lambda s: s[0] == "running" and s[1] > 0, 120)
        if not result.check(seen is not None, f"pool kill: the render never showed progress ({state})"):
            return
        pool = children(worker.pid)
        os.kill(pool[0], signal.SIGKILL)
        killed_at = state[1]
        took, _state = _wait(stack, batch, lambda s: s[0] in ("done", "failed"), BOUND)
        log = _log(worker)
    received = _received(log, batch)
    lost = log.count("Task handler raised error: WorkerLostError")
    result.check(took is not None, f"pool kill: the task was not done {BOUND:.0f} s after the kill")
    result.check(len(received) == 2, f"pool kill: the task was received {len(received)} times, 2 expected")
    effect = _check_effect(result, stack, media, batch, "pool kill")
    result.figures.update(
        {
            "1. pool process killed at": f"{killed_at} of {CARDS} cards (SIGKILL to the child running the task)",
            "1. deliveries of the task": f"{len(received)} (the first, and {len(received) - 1} after the kill); the worker logged WorkerLostError {lost}×",
            "1. done after the kill": "never" if took is None else f"{took:.1f} s",
            "1. effect": effect,
        }
    )


def _ready(worker: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and " ready." not in worker.tail(200):
        time.sleep(0.3)


def _worker_kill(result: DrillResult, stack: Stack, media: Path, env: dict[str, str]) -> None:
    stack.postgres.query("DELETE FROM payments_cardbatch RETURNING id")  # a done batch would be reused
    with stack.worker(concurrency=1, name="celery-first", **env) as first:
        _ready(first)
        batch = _request_batch(stack, env)["batch"]
        seen, state = _wait(stack, batch, lambda s: s[0] == "running" and s[1] > 0, 120)
        if not result.check(seen is not None, f"worker kill: the render never showed progress ({state})"):
            return
        first.signal_group(signal.SIGKILL)  # the main process and its pool: nothing can ack or reject
        killed = time.monotonic()
        killed_at = state[1]
        first.proc.wait(10)
        first_log = _log(first)
    with stack.worker(concurrency=1, name="celery-second", **env) as second:
        started = time.monotonic() - killed
        redelivered: float | None = None
        deadline = killed + BOUND
        while time.monotonic() < deadline and redelivered is None:
            if _received(_log(second), batch):
                redelivered = time.monotonic() - killed
            time.sleep(0.5)
        remaining = max(1.0, deadline - time.monotonic())
        took, _state = _wait(stack, batch, lambda s: s[0] in ("done", "failed"), remaining)
        took = None if took is None else time.monotonic() - killed
        time.sleep(VISIBILITY + 15)  # long enough for a second, wrong, redelivery to show
        second_log = _log(second)
    received = _received(first_log, batch) + _received(second_log, batch)
    result.check(redelivered is not None, f"worker kill: no new worker got the task within {BOUND:.0f} s")
    result.check(took is not None, f"worker kill: the task was not done {BOUND:.0f} s after the kill")
    result.check(len(received) == 2, f"worker kill: the task was received {len(received)} times, 2 expected")
    effect = _check_effect(result, stack, media, batch, "worker kill")
    result.figures.update(
        {
            "2. whole worker killed at": f"{killed_at} of {CARDS} cards (SIGKILL to the worker's process group)",
            "2. new worker started": f"{started:.1f} s after the kill",
            "2. redelivered to the new worker after": "never"
            if redelivered is None
            else f"{redelivered:.1f} s (visibility_timeout {VISIBILITY} s)",
            "2. done after the kill": "never" if took is None else f"{took:.1f} s",
            "2. deliveries of the task": f"{len(received)} (the first, and {len(received) - 1} after the kill)",
            "2. effect": effect,
        }
    )


def run() -> DrillResult:
    result = DrillResult(name="celery_kill", title=TITLE)
    with Stack(vendors=CARDS, name="celerykill") as stack:
        media = stack.postgres.base / "media"
        env = {"MEDIA_ROOT": str(media), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}
        _pool_kill(result, stack, media, env)
        _worker_kill(result, stack, media, env)
    result.notes += [
        "The task killed is `payments.render_market_cards` (a market's stall-card PDF, its progress in the"
        f" `CardBatch` row), on a market of {CARDS} stalls. Settings: `task_acks_late`,"
        " `task_reject_on_worker_lost`, prefetch 1, and the Redis transport's `visibility_timeout`"
        " (CELERY_VISIBILITY_TIMEOUT, 900 s in production; kombu's default was an hour, which this drill"
        " made explicit and bounded).",
        "A killed pool process is seen by its worker, which puts the task back at once; a whole worker killed"
        " leaves the message unacknowledged in Redis until the visibility timeout, then any worker restores it:"
        " kombu scans for such messages every ~100 s (every 10th of its 10-second ticks), hence a redelivery"
        " between the timeout and ~100 s after it (in production 900–1,000 s). The render is idempotent: it restarts a running batch from zero into a"
        " temporary file renamed into place, and a batch already done is left alone, so a redelivery can"
        " never leave two PDFs or a half one.",
    ]
    return result.finish()
