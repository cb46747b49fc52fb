"""The live-receipts benchmark's baseline: a bare Redis PUBLISH → subscriber
round trip, on the same Redis server, while the benchmark's load runs.

One thread publishes the monotonic time every ``every`` seconds on a channel
of its own; another, subscribed on a second connection, records how long
each message took. That is the floor any Redis-fed event stream pays on this
machine at that moment (Redis's own work, two loopback hops, a wake-up of a
Python process), so the receipt latency divided by it is what the server's
path adds on top.
"""

from __future__ import annotations

import os
import threading
import time


class RedisProbe:
    def __init__(self, url: str, every: float = 0.02) -> None:
        self.url = url
        self.every = every
        self.channel = f"cho40:bench:stall-probe:{os.getpid()}"
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._client: object = None

    def start(self) -> None:
        import redis

        # Held on self: a client collected as garbage closes its connections, the subscriber's too.
        self._client = client = redis.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        pubsub.get_message(timeout=1)  # the subscription's confirmation

        def listen() -> None:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message and message.get("type") == "message":
                    self.latencies_ms.append((time.monotonic() - float(message["data"])) * 1000)
            pubsub.close()

        def publish() -> None:
            publisher = redis.Redis.from_url(self.url)
            while not self._stop.wait(self.every):
                publisher.publish(self.channel, repr(time.monotonic()))
            publisher.close()

        self._threads = [threading.Thread(target=listen, daemon=True), threading.Thread(target=publish, daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads = []
