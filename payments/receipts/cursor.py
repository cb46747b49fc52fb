"""The resume cursor of a stall's receipt stream (pure: no Django).

Payment ids are drawn from a sequence when the row is inserted, but
transactions commit in any order: payment 41 can commit a moment after
payment 42 was already sent to the phone. A plain "everything with id > last"
cursor would then skip 41 for good. So the cursor is

- a watermark ``L``: every receipt with id ≤ L has been delivered, and
- the set ``S`` of ids above ``L`` delivered already.

Resuming sends the receipts with id > L that are not in S. ``L`` moves up
only past ids that can no longer be overtaken:

    Assumption: a transaction that inserts a payment commits (or rolls back)
    within SETTLE (60 s) of the payment's ``recorded_at`` (set just before
    its INSERT). Every write of a payment is a short request or task; the
    database's statement and idle-in-transaction timeouts are far shorter.

If payment y was recorded at r(y) and x < y, x's id was drawn before y's,
so x's transaction ended by r(y) + SETTLE. A ledger read that started at or
after r(y) + SETTLE therefore saw every x < y that exists. After such a read
has delivered what it found, ``L`` may move to y (``Cursor.settled``). Note
that it is the time of the last ledger read that counts, not the time of the
last event: an event that came through Redis proves nothing about the ids
below it, whose own messages may have been lost.

The cursor travels as the SSE ``id:`` string: ``"L"`` or ``"L-a.b.c"``
(S's ids, ascending). Anything unreadable is "from the start of the day"
(``Cursor()``): the stream then sends all of today's receipts again, which
the page deduplicates by id — a repeat is harmless, a loss is not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

SETTLE: Final = dt.timedelta(seconds=60)
# More ids than this above the watermark is no cursor we ever wrote (a stall
# gets a handful of payments a minute): refused as garbage.
MAX_DELIVERED: Final = 1000
_MAX_ID: Final = 2**63 - 1
_FORMAT: Final = re.compile(r"(\d{1,19})(?:-(\d{1,19}(?:\.\d{1,19})*))?")


@dataclass(frozen=True)
class Cursor:
    watermark: int = 0
    delivered: frozenset[int] = field(default_factory=frozenset)

    def covers(self, payment_id: int) -> bool:
        """Whether ``payment_id`` was delivered already."""
        return payment_id <= self.watermark or payment_id in self.delivered

    def with_delivered(self, payment_ids: Iterable[int]) -> Cursor:
        new = {i for i in payment_ids if not self.covers(i)}
        if not new:
            return self
        return Cursor(self.watermark, self.delivered | new)

    def settled(self, recorded_at: Mapping[int, dt.datetime], *, read_at: dt.datetime) -> Cursor:
        """Move the watermark up to the highest delivered id recorded at least
        SETTLE before ``read_at``, the start of a ledger read after which
        everything it found was delivered (see the module docstring).
        ``recorded_at`` gives the delivered ids' times; an id without one
        stays in S."""
        limit = read_at - SETTLE
        old = [i for i in self.delivered if (when := recorded_at.get(i)) is not None and when <= limit]
        if not old:
            return self
        watermark = max(self.watermark, *old)
        return Cursor(watermark, frozenset(i for i in self.delivered if i > watermark))

    def encode(self) -> str:
        if not self.delivered:
            return str(self.watermark)
        return f"{self.watermark}-{'.'.join(str(i) for i in sorted(self.delivered))}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor ``text`` encodes; ``Cursor()`` (from the start of the
        day) for anything else: empty, garbage, out of range, too long."""
        match = _FORMAT.fullmatch((text or "").strip()[:25_000])
        if not match:
            return cls()
        watermark = int(match.group(1))
        delivered = [int(i) for i in match.group(2).split(".")] if match.group(2) else []
        if watermark > _MAX_ID or len(delivered) > MAX_DELIVERED or any(i > _MAX_ID for i in delivered):
            return cls()
        return cls(watermark, frozenset(i for i in delivered if i > watermark))
