"""Shared helpers for the code-entry tests: a USSD "phone" and the test SMS gateway.

Import the fixtures into a test module to use them (``from tests.payments.code_entry.support import sms, ussd_secret``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from chopay import codes
from payments.sms.backends import LocmemSMSBackend
from tests.broker_support import broker_at
from vendors.models import Vendor

USSD_SECRET = "test-ussd-secret"
CUSTOMER = "+84987654321"


@pytest.fixture
def sms(settings: Any) -> Iterator[type[LocmemSMSBackend]]:
    """The SMS gateway, replaced by an in-memory outbox; Celery runs tasks in
    process (whatever an earlier test left in the Celery app's config), with
    the broker circuit breaker closed."""
    settings.SMS_BACKEND = "payments.sms.backends.LocmemSMSBackend"
    LocmemSMSBackend.reset()
    with broker_at("memory://", eager=True):
        yield LocmemSMSBackend
    LocmemSMSBackend.reset()


@pytest.fixture
def ussd_secret(settings: Any) -> str:
    settings.USSD_SHARED_SECRET = USSD_SECRET
    settings.MOBILE_MONEY_RAIL = "payments.code_entry.rails.SandboxRail"
    return USSD_SECRET


@dataclass
class Phone:
    """A feature phone talking to the aggregator: each ``send`` is one screen."""

    session_id: str
    phone: str = CUSTOMER
    answers: list[str] = field(default_factory=list)
    client: APIClient = field(default_factory=APIClient)
    replies: list[str] = field(default_factory=list)
    # pytest-django's django_capture_on_commit_callbacks: when given, the tasks
    # each request enqueues on commit run right after it, as a worker would.
    on_commit: Any = None

    def post(self, text: str) -> str:
        with self.on_commit(execute=True) if self.on_commit else nullcontext():
            response = self.client.post(
                "/api/v1/ussd/",
                {"sessionId": self.session_id, "serviceCode": "*384*40#", "phoneNumber": self.phone, "text": text},
                HTTP_X_USSD_SECRET=USSD_SECRET,
            )
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        self.replies.append(body)
        return body

    def dial(self) -> str:
        return self.post("")

    def send(self, answer: str) -> str:
        self.answers.append(answer)
        return self.post("*".join(self.answers))

    def retry(self) -> str:
        """The aggregator resends the last request (a lost reply)."""
        return self.post("*".join(self.answers))


def pay(session_id: str, vendor: Vendor, amount: int, *, phone: str = CUSTOMER, on_commit: Any = None) -> Phone:
    """A complete session: dial, code, accept vendor, amount, confirm."""
    p = Phone(session_id=session_id, phone=phone, on_commit=on_commit)
    p.dial()
    p.send(vendor.merchant_code)
    p.send("1")
    p.send(str(amount))
    p.send("1")
    return p


def code_for(vendor: Vendor, *, counter: int, amount: int) -> str:
    """What the vendor's own device computes (it holds the key)."""
    vendor.refresh_from_db()
    return codes.confirmation_code(codes.key_from_hex(vendor.code_secret), counter=counter, amount=amount)


def code_in_sms(body: str) -> str:
    marker = "Ma xac nhan "
    start = body.index(marker) + len(marker)
    return body[start : start + 6]
