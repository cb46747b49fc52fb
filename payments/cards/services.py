"""Writes for whole-market stall-card batches.

A market's cards are rendered in the request when the market is small; for a
large one, ``card_batch_request`` records a ``CardBatch`` and enqueues
``render_market_cards`` on commit, and ``card_batch_render`` (run by that
task) writes the PDF under ``MEDIA_ROOT/cards/`` with its progress in the row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.tasks import enqueue_on_commit
from market.models import Market
from payments.cards.card_pdf import cards_for, render_cards_pdf
from payments.cards.selectors import card_batch_reusable, card_batches_stale, card_vendors
from payments.models import CardBatch, TransitionError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

CARDS_DIR: Final = "cards"
# How often the task writes its progress: often enough for a progress bar,
# rarely enough that a 2,000-card batch costs 40 UPDATEs.
PROGRESS_EVERY: Final = 50


def card_batch_request(*, actor: User, market: Market) -> tuple[CardBatch, bool]:
    """The batch that answers a request for ``market``'s cards: a reusable one
    (``created`` False) or a new one, enqueued once committed. Batches whose
    worker went silent are marked failed first. The caller has checked that
    ``actor`` may print the market's cards."""
    existing = card_batch_reusable(market=market)
    if existing is not None:
        return existing, False
    for stale in card_batches_stale(market=market):
        card_batch_fail(batch_id=stale.pk, error="abandoned: no progress for too long")
    with transaction.atomic():
        batch = CardBatch(market=market, requested_by=actor, total=card_vendors(market=market).count())
        batch.full_clean()
        batch.save()
        # With the broker down the batch stays pending, goes stale and the
        # next request starts another; this request must not fail.
        enqueue_on_commit("payments.render_market_cards", batch.pk)
    return batch, True


def batch_path(batch: CardBatch) -> Path:
    return Path(settings.MEDIA_ROOT) / batch.file


def card_batch_render(*, batch_id: int) -> CardBatch:
    """Render batch ``batch_id``; idempotent. A finished batch is left alone; a
    running one (its worker died and the task was delivered again) restarts."""
    batch = CardBatch.objects.select_related("market").get(pk=batch_id)
    if batch.status in (CardBatch.Status.DONE, CardBatch.Status.FAILED):
        return batch
    if batch.status == CardBatch.Status.PENDING:
        try:
            batch.transition(CardBatch.Status.RUNNING, done=0)
        except TransitionError:
            batch.refresh_from_db()
            if batch.status != CardBatch.Status.RUNNING:
                return batch

    market = batch.market
    vendors = list(card_vendors(market=market))
    total = len(vendors)
    CardBatch.objects.filter(pk=batch.pk).update(total=total, done=0, updated_at=timezone.now())

    def progress(done: int, _total: int | None) -> None:
        if done % PROGRESS_EVERY == 0 and done < total:
            CardBatch.objects.filter(pk=batch.pk).update(done=done, updated_at=timezone.now())

    relative = f"{CARDS_DIR}/market-{market.pk}-batch-{batch.pk}.pdf"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed into place, so that a download
    # never sees half a file and a retried task simply replaces it.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            render_cards_pdf(
                cards_for(vendors),
                title=f"Chợ 4.0 – {market.name}",
                out=out,
                total=total,
                on_progress=progress,
            )
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    batch.refresh_from_db()
    try:
        batch.transition(CardBatch.Status.DONE, done=total, total=total, file=relative, finished_at=timezone.now())
    except TransitionError:
        # A second delivery of the task finished (or failed) it meanwhile.
        batch.refresh_from_db()
        return batch
    logger.info("rendered %d stall cards of market %s into %s", total, market.pk, relative)
    return batch


def card_batch_fail(*, batch_id: int, error: str) -> None:
    """Mark a batch failed (after the task gave up), keeping the reason."""
    batch = CardBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        return
    # Already finished one way or the other: that outcome stands.
    with contextlib.suppress(TransitionError):
        batch.transition(CardBatch.Status.FAILED, error=error[:2000], finished_at=timezone.now())


def card_batches_purge(*, older_than: dt.timedelta | None = None, now: dt.datetime | None = None) -> int:
    """Delete the PDFs of card batches finished more than ``older_than``
    (default ``CARD_BATCH_RETENTION_DAYS``) ago, and ``.part`` files that
    killed workers left behind. The batch rows stay as the record of what was
    printed, with their file emptied: downloading one answers 410, and asking
    for the market's cards again renders a new batch. Idempotent; returns the
    number of batches purged."""
    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else dt.timedelta(days=settings.CARD_BATCH_RETENTION_DAYS))
    purged = 0
    for batch in CardBatch.objects.filter(finished_at__lt=cutoff).exclude(file="").only("pk", "file"):
        batch_path(batch).unlink(missing_ok=True)
        # Conditional, so a batch re-rendered meanwhile keeps its new file.
        purged += CardBatch.objects.filter(pk=batch.pk, file=batch.file).update(file="", updated_at=now)
    leftovers = Path(settings.MEDIA_ROOT) / CARDS_DIR
    if leftovers.is_dir():
        for part in leftovers.glob("*.part"):
            with contextlib.suppress(FileNotFoundError):
                if dt.datetime.fromtimestamp(part.stat().st_mtime, dt.UTC) < cutoff:
                    part.unlink()
    if purged:
        logger.info("purged the PDFs of %d card batches finished before %s", purged, cutoff.isoformat())
    return purged
