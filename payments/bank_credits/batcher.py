"""The intake's batcher: hands deliveries from the event loop to writer threads, in batches.

``payments.bank_credits.intake.WebhookIntake`` submits each webhook delivery
here and answers the provider with the outcome; ``webhook_ingest_batch``
(batching.py) writes each batch.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import OperationalError, close_old_connections, connections

from common.database import answer_deadline
from payments.bank_credits.batching import Delivery, Outcome, webhook_ingest_batch
from payments.receipts.publish import receipts_held


class Batcher:
    """Hands deliveries from the event loop to writer threads, in batches.

    ``submit`` queues a delivery and waits for its outcome. Whenever a writer
    is free it takes everything queued (up to ``max_batch``) — so batches are
    as large as the load makes them and no larger.

    With ``gather_within`` (seconds), once a batch is answered the next one
    waits until as many deliveries are queued as that batch had plus those
    already queued — its senders (a provider's client, the proxy's keep-alive
    connections) usually send again at once — or until ``gather_within`` has
    passed. Without it the first sender back was written alone and the rest
    queued behind it: batches alternated between one delivery and all the
    others. A delivery at a quiet moment (no batch answered within the
    window) is never held.

    A batch's deliveries are answered as soon as it is written; the writer
    publishes its receipts to the stall pages after that (``receipts_held``).

    With ``answer_within`` (seconds), a delivery whose outcome is not known by
    then is answered with an ``OperationalError`` (the lane answers 503 +
    Retry-After) instead of holding its provider past the provider's own
    timeout: PostgreSQL hangs (frozen, a lock held, a half-open connection)
    and the writers are stuck in it. If it was still queued it is dropped
    (the provider's retry brings it back); if a writer had it, the write goes
    on and may still record the payment when the database answers, and the
    retry then finds it (a duplicate, answered success): exactly once either way.
    The writers work inside the same deadline (``common.database.answer_deadline``),
    so that they are not stuck either: past it, their connection is closed and
    the batch's deliveries are answered 503.
    """

    def __init__(
        self, *, writers: int, max_batch: int, answer_within: float | None = None, gather_within: float = 0.0
    ) -> None:
        self.writers = max(1, writers)
        self.max_batch = max(1, max_batch)
        self.answer_within = answer_within or None
        self.gather_within = max(0.0, gather_within)
        self._expect = 0  # deliveries expected soon: the last batch's senders, and those queued then
        self._gather_until = 0.0
        self._gathering: asyncio.TimerHandle | None = None
        self._queue: list[tuple[Delivery, asyncio.Future[Outcome]]] = []
        self._deadlines: collections.deque[tuple[float, asyncio.Future[Outcome]]] = collections.deque()
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._busy = 0
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # What has been written, for the operators' eyes (and the benchmark).
        self.batches = 0
        self.deliveries = 0
        self.largest = 0
        self.overdue = 0  # deliveries answered "unavailable" after ``answer_within``

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.writers, thread_name_prefix="webhook-intake")
            return self._executor

    async def submit(self, delivery: Delivery) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.append((delivery, future))
        if self.answer_within is not None:
            self._watch(loop, future)
        self._start_writers(loop)
        return await future

    def _watch(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Outcome]) -> None:
        """Answer ``future`` past ``answer_within``, whatever its batch does.
        One timer for all the deliveries in flight, not one each: their
        deadlines come in the order they were submitted, so the timer is set
        for the oldest one still unanswered."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][1].done():
            deadlines.popleft()
        deadlines.append((loop.time() + self.answer_within, future))  # type: ignore[operator]
        if self._deadline_timer is None:
            self._deadline_timer = loop.call_at(deadlines[0][0], self._past_deadlines, loop)

    def _past_deadlines(self, loop: asyncio.AbstractEventLoop) -> None:
        self._deadline_timer = None
        deadlines, now = self._deadlines, loop.time()
        while deadlines and (deadlines[0][1].done() or deadlines[0][0] <= now):
            _deadline, future = deadlines.popleft()
            self._overdue(future)
        if deadlines:
            self._deadline_timer = loop.call_at(deadlines[0][0], self._past_deadlines, loop)

    def _overdue(self, future: asyncio.Future[Outcome]) -> None:
        if future.done():
            return
        self._queue = [queued for queued in self._queue if queued[1] is not future]
        self.overdue += 1
        future.set_result(
            OperationalError(
                f"no outcome from the database within {self.answer_within:g} s ({self._busy} batch(es) being written)"
            )
        )

    def _start_writers(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._queue and self._busy < self.writers and len(self._queue) < self._expect:
            now = loop.time()
            if now < self._gather_until:
                if self._gathering is None:
                    self._gathering = loop.call_at(self._gather_until, self._gathered, loop)
                return
        if self._gathering is not None:
            self._gathering.cancel()
            self._gathering = None
        while self._queue and self._busy < self.writers:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self._busy += 1
            loop.run_in_executor(self._pool(), self._write, loop, batch)

    def _answer(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[Delivery, asyncio.Future[Outcome]]],
        outcomes: list[Outcome],
    ) -> None:
        """On the loop, once ``batch`` is written: give each delivery its
        outcome (the lane answers it) and let the next batch start (it starts
        on the writer as soon as the writer has published this one's receipts)."""
        self._busy -= 1
        for (_delivery, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        if self.gather_within:
            # The senders just answered are likely to send again at once (a
            # provider's client, a proxy's keep-alive connection): the next
            # batch waits for as many as this one had, or for the window.
            self._expect = min(self.max_batch, len(self._queue) + len(batch))
            self._gather_until = loop.time() + self.gather_within
        self._start_writers(loop)

    def _gathered(self, loop: asyncio.AbstractEventLoop) -> None:
        self._gathering = None
        self._expect = 0
        self._start_writers(loop)

    def _write(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[Delivery, asyncio.Future[Outcome]]]) -> None:
        """On a writer thread: one batch, inside a request-like connection life
        cycle. Its deliveries are answered as soon as it is written; the
        receipts it made are published after that, so no answer waits for Redis."""
        outcomes: list[Outcome] = [RuntimeError("the intake stopped before this batch was written")] * len(batch)
        held = None
        try:
            with answer_deadline(self.answer_within):  # a hung database: the writer is not stuck in it
                close_old_connections()
                try:
                    with receipts_held() as held:
                        outcomes = webhook_ingest_batch([delivery for delivery, _future in batch])
                except Exception as exc:  # the whole write failed (the database is gone): answered 500
                    outcomes = [exc] * len(batch)
                finally:
                    close_old_connections()
        finally:
            self.batches += 1
            self.deliveries += len(batch)
            self.largest = max(self.largest, len(batch))
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
                loop.call_soon_threadsafe(self._answer, loop, batch, outcomes)
        if held is not None:
            held.publish()

    def shutdown(self) -> None:
        """Finish the batches in hand, close every writer's database connection, stop the threads."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        # One closing task per writer thread: each waits at the barrier until
        # all have started, so no thread can take two and leave one open.
        barrier = threading.Barrier(self.writers)

        def close() -> None:
            connections.close_all()
            barrier.wait(timeout=30)

        for closing in [executor.submit(close) for _writer in range(self.writers)]:
            closing.result()
        executor.shutdown(wait=True)
