"""Enqueue a Celery task once the current transaction commits, by its name.

Services name the task they want run (``"payments.tasks.code_entry.send_sms"``)
instead of importing the task module, so that tasks import services and never
the reverse. Every task has an explicit, stable ``name=``.

The row a task works on is written before the task is enqueued, so a broker
outage only delays derived work: a periodic sweep finds what a lost message
would have done. A broker error is therefore logged and swallowed, and after
one the broker is skipped for a while (a circuit breaker), so that a dead
Redis costs a request at most one connection timeout, not one per task. With
``CELERY_TASK_ALWAYS_EAGER`` the task runs in-process, as ``apply_async`` does.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from celery import current_app
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# After a failed publish, skip the broker for this long.
_BROKER_BACKOFF_SECONDS: Final = 30.0
_broker_down_until = 0.0


def _apply_async(task_name: str, args: tuple[Any, ...], countdown: float | None) -> None:
    app = current_app
    if task_name not in app.tasks:
        # The task modules are imported by autodiscovery when a worker starts;
        # a web process may not have imported them yet.
        app.loader.import_default_modules()
    # The registered task honours task_always_eager; an unknown name is sent to the broker as is.
    app.signature(task_name, args=args).apply_async(countdown=countdown)


def enqueue_on_commit(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Enqueue the task named ``task_name`` once the current transaction
    commits (at once outside one). Never raises: see the module docstring."""

    def publish() -> None:
        global _broker_down_until
        if time.monotonic() < _broker_down_until:
            logger.info("broker marked down; %s%r left to the sweep", task_name, args)
            return
        try:
            _apply_async(task_name, args, countdown)
        except (OperationalError, ConnectionError, OSError) as exc:
            _broker_down_until = time.monotonic() + _BROKER_BACKOFF_SECONDS
            logger.warning("could not enqueue %s%r (%s); the sweep will catch up", task_name, args, exc)
        except Exception:
            # With eager tasks (no broker) the task's own error surfaces here;
            # it must never undo or fail the request that enqueued it.
            logger.exception("task %s%r failed", task_name, args)

    transaction.on_commit(publish)
