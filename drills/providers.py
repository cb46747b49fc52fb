"""Bank-credit deliveries sent the way a provider sends them: SePay credits
signed with HMAC-SHA256, unique transaction ids, each delivery retried after
an error or a non-200 answer until it is answered 200 or its attempts run out.

SePay retries 7 times over about 33 minutes (../shared/DOMAIN.md); a drill
cannot wait that long, so the schedule is compressed (``retry_delays``) while
keeping its shape: growing gaps, a bounded number of attempts. Every answer is
kept, so that the drill can report each 5xx with its cause and count what
the providers would consider delivered.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import random
import select
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.webhooks_load import delivery
from drills.services import SEPAY_SECRET
from payments.bank_credits.providers.sepay import hmac_signature

PATH = "/api/v1/webhooks/sepay/"
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)  # 7 retries, growing, as SePay's (compressed)


@dataclass
class Answer:
    txn_id: int
    attempt: int
    status: int  # 0: no answer (connection refused/reset, timeout)
    seconds: float
    detail: str  # error code from the body, Retry-After, or the exception
    at: float = 0.0  # time.monotonic() when the request was sent (to place it against a fault)


@dataclass
class LoadReport:
    sent: int = 0  # requests, retries included
    unique: int = 0  # distinct deliveries (transaction ids)
    delivered: int = 0  # deliveries finally answered 200
    gave_up: list[int] = field(default_factory=list)  # ids never answered 200
    answers: list[Answer] = field(default_factory=list)

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def five_xx(self) -> list[str]:
        """Every 5xx answer as 'STATUS POST path (attempt n): cause', for the report."""
        return [
            f"{a.status} POST {PATH} (txn {a.txn_id}, attempt {a.attempt}): {a.detail}"
            for a in self.answers
            if a.status >= 500
        ]

    def slowest(self) -> float:
        return max((a.seconds for a in self.answers), default=0.0)


class ProviderLoad:
    """``threads`` senders, each with one connection, pushing unique deliveries
    numbered from ``first_id`` to ``port`` for ``seconds`` (or ``count`` deliveries),
    optionally paced to ``rate`` per second in all; retries run on their own
    timers, as a provider's do, while new deliveries keep coming."""

    def __init__(
        self,
        port: int,
        codes: list[list[str]],
        *,
        first_id: int = 1,
        threads: int = 16,
        rate: float | None = None,
        timeout: float = 10.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        secret: str = SEPAY_SECRET,
        dated_now: bool = False,
    ) -> None:
        self.port = port
        self.codes = codes
        self.next_id = first_id
        self.first_id = first_id
        self.threads = threads
        self.rate = rate
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.secret = secret
        self.dated_now = dated_now  # transactionDate = now (Vietnam time): today's receipts on the stall pages
        self.report = LoadReport()
        self._lock = threading.Lock()
        self._retries: list[tuple[float, int, bytes, int]] = []  # (due, txn id, body, attempt)
        self._stop_new = threading.Event()
        self._rng = random.Random(first_id)

    def _take(self) -> tuple[int, bytes, int] | None:
        """A due retry first, else a new delivery (None: nothing to do now)."""
        with self._lock:
            now = time.monotonic()
            for i, (due, txn, body, attempt) in enumerate(self._retries):
                if due <= now:
                    self._retries.pop(i)
                    return txn, body, attempt
            if self._stop_new.is_set():
                return None
            if self.rate:
                started = self._started
                if self.report.unique >= (now - started) * self.rate:
                    return None
            txn = self.next_id
            self.next_id += 1
            self.report.unique += 1
            body = delivery(self.codes, self._rng, txn)
            if self.dated_now:
                body = body.replace(_BENCH_DATE, _vietnam_now())
            return txn, body, 1

    def _send(
        self, conn: http.client.HTTPConnection, txn: int, body: bytes, attempt: int
    ) -> http.client.HTTPConnection:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-SePay-Timestamp": timestamp,
            "X-SePay-Signature": hmac_signature(self.secret, timestamp, body),
        }
        if conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            conn.close()  # the server closed this idle keep-alive connection: reconnect, as HTTP clients do
        started = time.monotonic()
        status, detail = 0, ""
        try:
            conn.request("POST", PATH, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            if status != 200:
                detail = _cause(payload, response.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as exc:
            detail = f"{type(exc).__name__}: {exc}"[:200]
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        seconds = time.monotonic() - started
        with self._lock:
            self.report.sent += 1
            self.report.answers.append(Answer(txn, attempt, status, seconds, detail, started))
            if status == 200:
                self.report.delivered += 1
            elif attempt <= len(self.retry_delays):
                self._retries.append((time.monotonic() + self.retry_delays[attempt - 1], txn, body, attempt + 1))
            else:
                self.report.gave_up.append(txn)
        return conn

    def _worker(self, deadline: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        while time.monotonic() < deadline:
            job = self._take()
            if job is None:
                with self._lock:
                    idle = self._stop_new.is_set() and not self._retries
                if idle:
                    break
                time.sleep(0.005)
                continue
            conn = self._send(conn, *job)
        conn.close()

    def run(self, seconds: float, *, drain: float = 130.0, count: int | None = None) -> LoadReport:
        """Send new deliveries for ``seconds`` (or until ``count`` were made), then keep
        retrying the failed ones for up to ``drain`` more seconds. Blocking."""
        self._started = time.monotonic()
        deadline = self._started + seconds + drain
        stopper = threading.Timer(seconds, self._stop_new.set)
        stopper.start()
        if count is not None:

            def watch() -> None:
                while not self._stop_new.is_set():
                    if self.report.unique >= count:
                        self._stop_new.set()
                    time.sleep(0.01)

            threading.Thread(target=watch, daemon=True).start()
        workers = [threading.Thread(target=self._worker, args=(deadline,), daemon=True) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        stopper.cancel()
        with self._lock:
            self.report.gave_up.extend(txn for _, txn, _, _ in self._retries)
            self._retries.clear()
        return self.report

    def stop_new(self) -> None:
        """No new deliveries from now on (retries go on): ends ``run``'s sending early."""
        self._stop_new.set()

    def ids(self) -> range:
        return range(self.first_id, self.next_id)


_BENCH_DATE = b'"2025-03-01 08:15:00"'  # bench.webhooks_load.delivery's transactionDate


def _vietnam_now() -> bytes:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)  # Asia/Ho_Chi_Minh, no DST
    return f'"{now:%Y-%m-%d %H:%M:%S}"'.encode()


def _cause(payload: bytes, retry_after: str | None) -> str:
    try:
        error = json.loads(payload).get("error", {})
        text = f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        text = payload[:120].decode("utf-8", "replace")
    return f"{text} (Retry-After: {retry_after})" if retry_after else text


def recorded(stack_query, ids: range) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(distinct payments recorded, duplicates) among SePay transaction ``ids``,
    read with ``stack_query`` (e.g. ``stack.postgres.query``)."""
    rows = stack_query(
        "SELECT count(*), count(DISTINCT provider_txn_id) FROM payments_payment"
        " WHERE source = 'sepay' AND provider_txn_id = ANY(%s)",
        [[str(i) for i in ids]],
    )
    total, distinct = rows[0]
    return int(distinct), int(total) - int(distinct)
