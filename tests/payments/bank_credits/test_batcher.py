"""How the batching intake forms batches (``payments.bank_credits.batcher``),
its writer stubbed (no database): a lone delivery is written at once, what
arrives during a write is the next batch, the senders just answered are
waited for (within the window), a failed write answers each delivery of its
batch with the error.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from payments.bank_credits import batching, ingest
from payments.models import WebhookDelivery

Delivery = WebhookDelivery.Status


# --- how batches form (the writer stubbed: no database) ------------------------------------


class _Writes:
    """Stands for ``webhook_ingest_batch``: records batch sizes, takes ``seconds`` per batch."""

    def __init__(self, seconds: float = 0.0, error: Exception | None = None) -> None:
        self.seconds = seconds
        self.error = error
        self.sizes: list[int] = []

    def __call__(self, deliveries: list[Any]) -> list[Any]:
        self.sizes.append(len(deliveries))
        time.sleep(self.seconds)
        if self.error:
            raise self.error
        return [ingest.IngestResult(i, Delivery.PROCESSED, None) for i in range(len(deliveries))]


def _delivery() -> batching.Delivery:
    from payments.bank_credits.providers import sepay

    return batching.Delivery(provider=sepay, headers={}, body=b"{}")


def _batcher(monkeypatch: Any, writes: _Writes) -> Any:
    from payments.bank_credits import batcher as batcher_module

    monkeypatch.setattr(batcher_module, "webhook_ingest_batch", writes)
    return batcher_module.Batcher(writers=1, max_batch=200)


def test_a_lone_delivery_is_written_at_once(monkeypatch) -> None:
    writes = _Writes()
    batcher = _batcher(monkeypatch, writes)

    started = time.monotonic()
    outcome = asyncio.run(batcher.submit(_delivery()))

    assert isinstance(outcome, ingest.IngestResult)
    assert time.monotonic() - started < 1.0  # no timer: written as soon as it came
    assert writes.sizes == [1]
    batcher.shutdown()


def test_what_arrives_during_a_write_is_the_next_batch(monkeypatch) -> None:
    writes = _Writes(seconds=0.2)
    batcher = _batcher(monkeypatch, writes)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(batcher.submit(_delivery()))
        await asyncio.sleep(0.05)  # the first batch is being written now
        rest = [asyncio.ensure_future(batcher.submit(_delivery())) for _ in range(10)]
        return await asyncio.gather(first, *rest)

    outcomes = asyncio.run(scenario())

    assert len(outcomes) == 11 and all(isinstance(o, ingest.IngestResult) for o in outcomes)
    assert writes.sizes == [1, 10]
    batcher.shutdown()


def test_a_failed_write_answers_every_delivery_of_the_batch_with_the_error(monkeypatch) -> None:
    writes = _Writes(error=RuntimeError("database gone"))
    batcher = _batcher(monkeypatch, writes)

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(batcher.submit(_delivery()) for _ in range(3)))

    outcomes = asyncio.run(scenario())

    assert [str(o) for o in outcomes] == ["database gone"] * 3
    batcher.shutdown()


def test_a_stuck_write_answers_its_delivery_and_those_queued_behind_it_unavailable_in_time(monkeypatch) -> None:
    from common.database import database_unavailable

    writes = _Writes(seconds=1.0)  # a hung database: the writer is stuck in it
    batcher = _batcher(monkeypatch, writes)
    batcher.answer_within = 0.2

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(batcher.submit(_delivery()))
        await asyncio.sleep(0.05)  # the writer has it and is stuck
        queued = [asyncio.ensure_future(batcher.submit(_delivery())) for _ in range(3)]
        outcomes = await asyncio.gather(first, *queued)
        await asyncio.sleep(1.2)  # the stuck write ends; nothing queued is left to write
        return outcomes

    started = time.monotonic()
    outcomes = asyncio.run(scenario())
    answered = time.monotonic() - started - 1.2

    assert all(database_unavailable(o) for o in outcomes), outcomes  # the lanes answer 503 + Retry-After
    assert answered < 0.6  # not after the write: within answer_within
    assert writes.sizes == [1]  # the queued deliveries were dropped (their providers retry them)
    assert batcher.overdue == 4
    batcher.shutdown()


def test_each_delivery_gets_its_own_time_to_be_answered(monkeypatch) -> None:
    """Deliveries answered in time leave no deadline behind: one that comes
    later and whose write hangs is answered unavailable ``answer_within``
    after it came, not earlier (and not only when the write ends)."""
    from common.database import database_unavailable

    writes = _Writes(seconds=0.0)
    batcher = _batcher(monkeypatch, writes)
    batcher.answer_within = 0.4

    async def scenario() -> tuple[list[Any], Any, float]:
        quick = [await batcher.submit(_delivery()) for _ in range(5)]
        await asyncio.sleep(0.3)  # the quick ones' deadlines would fall during the next write
        writes.seconds = 1.0  # the database hangs now
        came = time.monotonic()
        late = await batcher.submit(_delivery())
        answered = time.monotonic() - came
        await asyncio.sleep(0.8)  # the stuck write ends
        return quick, late, answered

    quick, late, answered = asyncio.run(scenario())

    assert all(isinstance(o, ingest.IngestResult) for o in quick)
    assert database_unavailable(late)
    assert 0.35 <= answered < 0.8, answered
    assert batcher.overdue == 1
    batcher.shutdown()


# --- the gathering window (WEBHOOK_INTAKE_GATHER_MS) ---------------------------------------


def _gathering(monkeypatch: Any, writes: _Writes, within: float) -> Any:
    batcher = _batcher(monkeypatch, writes)
    batcher.gather_within = within
    return batcher


async def _senders(batcher: Any, senders: int, rounds: int, pause: float) -> None:
    """``senders`` clients that each send a delivery, wait for its answer, pause, send the next (a
    provider's client, a proxy's keep-alive connection)."""

    async def sender(n: int) -> None:
        for _round in range(rounds):
            await batcher.submit(_delivery())
            await asyncio.sleep(pause * (n % 5) / 4)  # they come back at different moments

    await asyncio.gather(*(sender(n) for n in range(senders)))


def test_senders_answered_together_are_written_together_again(monkeypatch) -> None:
    gathered, alone = _Writes(seconds=0.02), _Writes(seconds=0.02)

    asyncio.run(_senders(_gathering(monkeypatch, gathered, 0.5), senders=10, rounds=4, pause=0.04))
    asyncio.run(_senders(_gathering(monkeypatch, alone, 0.0), senders=10, rounds=4, pause=0.04))

    assert sum(gathered.sizes) == sum(alone.sizes) == 40
    # The first delivery is written alone, at once; from then on the window waits for every
    # sender answered to come back, so each round is one batch of all ten (the first sender,
    # one round ahead, is done before the last).
    assert gathered.sizes == [1, 10, 10, 10, 9], gathered.sizes
    # Without the window, whoever comes back first is written alone and the rest wait for it.
    assert len(alone.sizes) > len(gathered.sizes) + 2, alone.sizes


def test_a_lone_delivery_at_a_quiet_moment_is_not_held_by_the_window(monkeypatch) -> None:
    writes = _Writes()
    batcher = _gathering(monkeypatch, writes, 2.0)

    async def scenario() -> float:
        await batcher.submit(_delivery())
        await asyncio.sleep(2.1)  # quiet: the window of the last batch has passed
        started = time.monotonic()
        await batcher.submit(_delivery())
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5
    assert writes.sizes == [1, 1]
    batcher.shutdown()


def test_the_window_bounds_the_wait_for_senders_that_do_not_come_back(monkeypatch) -> None:
    writes = _Writes()
    batcher = _gathering(monkeypatch, writes, 0.3)

    async def scenario() -> float:
        await asyncio.gather(*(batcher.submit(_delivery()) for _ in range(5)))  # batches of 1 and 4
        started = time.monotonic()
        await batcher.submit(_delivery())  # one of the five comes back; four never do
        return time.monotonic() - started

    waited = asyncio.run(scenario())
    assert 0.2 < waited < 0.8, waited  # held for the window (0.3 s), no longer
    assert writes.sizes == [1, 4, 1]
    batcher.shutdown()
