"""The live-receipts benchmark's baselines, measured while its load runs:

- through the server: every ``every`` seconds a receipt message that is no
  payment (id from ``INJECTED_BASE`` up, amount 0) is PUBLISHed on the
  deployment's receipt channel (``payments.receipts.publish.channel_name``)
  for one of the connected vendors, in turn; the server's subscriber fans it
  out to that vendor's stream exactly as a real one, and the stream client
  stamps its arrival. Publish → page through the same server path, without
  the payment: the receipt latency beside it is what the payment's own
  commit-then-publish (and the race with the bank's answer) adds;
- bare Redis: the same rhythm on a channel of the probe's own with a
  subscriber in this process: the floor any Redis-fed stream pays on this
  machine at that moment.
"""

from __future__ import annotations

import json
import os
import threading
import time

INJECTED_BASE = 10**15  # above any payment id the benchmark makes: never a real receipt


class RedisProbe:
    def __init__(
        self, url: str, *, channel: str | None = None, vendor_ids: list[int] | None = None, every: float = 0.02
    ) -> None:
        self.url = url
        self.every = every
        self.own_channel = f"cho40:bench:stall-probe:{os.getpid()}"
        self.server_channel = channel
        self.vendor_ids = vendor_ids or []
        self.latencies_ms: list[float] = []  # bare Redis round trips
        self.injected: dict[int, tuple[int, float]] = {}  # id -> (vendor id, published at)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._client: object = None

    def start(self) -> None:
        import redis

        # Held on self: a client collected as garbage closes its connections, the subscriber's too.
        self._client = client = redis.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.own_channel)
        pubsub.get_message(timeout=1)  # the subscription's confirmation

        def listen() -> None:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message and message.get("type") == "message":
                    self.latencies_ms.append((time.monotonic() - float(message["data"])) * 1000)
            pubsub.close()

        def publish() -> None:
            publisher = redis.Redis.from_url(self.url)
            n = 0
            while not self._stop.wait(self.every):
                publisher.publish(self.own_channel, repr(time.monotonic()))
                if self.server_channel and self.vendor_ids:
                    vendor = self.vendor_ids[n % len(self.vendor_ids)]
                    fake = INJECTED_BASE + n
                    text = json.dumps({"id": fake, "vendor_id": vendor, "amount": 0})
                    self.injected[fake] = (vendor, time.monotonic())
                    publisher.publish(self.server_channel, text)
                n += 1
            publisher.close()

        self._threads = [threading.Thread(target=listen, daemon=True), threading.Thread(target=publish, daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads = []
