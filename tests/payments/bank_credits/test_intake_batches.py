"""How the batching intake forms batches, its writer stubbed (no database): a
lone delivery is written at once, what arrives during a write is the next
batch, a failed write answers each delivery of its batch with the error.
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
    from payments.bank_credits import intake as intake_module

    monkeypatch.setattr(intake_module, "webhook_ingest_batch", writes)
    return intake_module.Batcher(writers=1, max_batch=200)


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
