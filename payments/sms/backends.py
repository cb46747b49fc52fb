"""Adapters to an SMS gateway.

Nothing sends an SMS directly: a service writes an ``OutboundSms`` row in the
same transaction as what caused it, and the ``send_sms`` task hands the row to
the backend named by ``settings.SMS_BACKEND``. A backend raises ``SmsError``
when the gateway refuses or cannot be reached; the task retries.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not accept the message; worth retrying."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send one message and return the gateway's message id."""
        ...


class ConsoleSMSBackend:
    """For the demo: writes each message to the log instead of a gateway."""

    _ids = itertools.count(1)

    def send(self, *, to: str, body: str) -> str:
        message_id = f"console-{next(self._ids)}"
        logger.info("SMS to %s (%s): %s", to, message_id, body)
        return message_id


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    message_id: str


class LocmemSMSBackend:
    """For tests: keeps what it "sent" in ``LocmemSMSBackend.outbox``, like
    Django's locmem e-mail backend. Set ``fail_next`` to make sends fail."""

    outbox: ClassVar[list[SentSms]] = []
    fail_next: ClassVar[int] = 0
    _ids = itertools.count(1)

    def send(self, *, to: str, body: str) -> str:
        if LocmemSMSBackend.fail_next > 0:
            LocmemSMSBackend.fail_next -= 1
            raise SmsError("gateway unavailable (simulated)")
        message_id = f"locmem-{next(self._ids)}"
        LocmemSMSBackend.outbox.append(SentSms(to=to, body=body, message_id=message_id))
        return message_id

    @classmethod
    def reset(cls) -> None:
        cls.outbox.clear()
        cls.fail_next = 0


# Where the backends lived before payments was cut by feature: a deployed
# ``.env`` may still name them so. Accepted, with a warning, until it is updated.
_OLD_PATHS = {
    "payments.sms.ConsoleSMSBackend": "payments.sms.backends.ConsoleSMSBackend",
    "payments.sms.LocmemSMSBackend": "payments.sms.backends.LocmemSMSBackend",
}


def backend_path() -> str:
    path: str = settings.SMS_BACKEND
    if path in _OLD_PATHS:
        logger.warning("SMS_BACKEND=%s is deprecated: set it to %s", path, _OLD_PATHS[path])
        return _OLD_PATHS[path]
    return path


def get_sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(backend_path())()
    return backend
