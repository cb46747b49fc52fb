"""Adapters to mobile-money rails (Viettel Money, VNPT Money, …).

A rail moves the customer's money to the vendor after a code-entry (USSD)
session. The backend only ever talks to a rail through ``MobileMoneyRail``;
``settings.MOBILE_MONEY_RAIL`` names the class. The demo uses ``SandboxRail``.

Every charge carries an idempotency key: a rail must answer a repeated key with
the first answer and never charge twice, which is what lets a retried USSD step
or a crashed worker call the rail again safely.

An answer is ``approved``, ``declined`` or ``pending``. Pending means "no final
answer yet" (a timeout, a rail that settles later); the payment stays pending
and ``status()`` is asked again later with the same request. An adapter that
cannot reach its rail raises ``RailUnavailable``; the caller treats that like
pending, because the charge may have gone through.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from chopay.ussd import AmountLimits

RailStatus = Literal["approved", "declined", "pending"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str
    payer_phone: str  # E.164
    amount: int  # đồng
    merchant_code: str
    description: str


@dataclass(frozen=True)
class RailResult:
    status: RailStatus
    transaction_id: str = ""
    reason: str = ""  # machine-readable, for declines: "insufficient_funds", "timeout", …


class RailUnavailable(Exception):
    """The rail could not be reached; the outcome of the charge is unknown."""


class MobileMoneyRail(Protocol):
    @property
    def limits(self) -> AmountLimits:
        """The smallest and largest charge the rail accepts; the USSD menu
        refuses other amounts before any charge."""
        ...

    def charge(self, request: ChargeRequest) -> RailResult: ...

    def status(self, request: ChargeRequest) -> RailResult:
        """The final answer for a charge made earlier with this same request
        (real rails look it up by ``idempotency_key``)."""
        ...


# The sandbox's documented magic amounts (see docs/code-entry.md).
SANDBOX_DECLINE: Final = 99_999  # declined at once: insufficient funds
SANDBOX_TIMEOUT_THEN_APPROVE: Final = 88_888  # no answer; the status query approves
SANDBOX_TIMEOUT_THEN_DECLINE: Final = 77_777  # no answer; the status query declines
# The sandbox wallet's limits, enforced by the USSD menu before any charge.
SANDBOX_MIN_AMOUNT: Final = 1_000
SANDBOX_MAX_AMOUNT: Final = 10_000_000
SANDBOX_LIMITS: Final = AmountLimits(min_amount=SANDBOX_MIN_AMOUNT, max_amount=SANDBOX_MAX_AMOUNT)


class SandboxRail:
    """A rail for the demo and the tests: approves everything except the magic amounts.

    Stateless, so that the web process and any Celery worker give the same
    answers: the outcome depends only on the amount, and the transaction id
    only on the idempotency key (a repeated key gets the same id, never a
    second charge).
    """

    limits = SANDBOX_LIMITS

    def _transaction_id(self, request: ChargeRequest) -> str:
        return "SBX" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:17].upper()

    def charge(self, request: ChargeRequest) -> RailResult:
        txn = self._transaction_id(request)
        if request.amount == SANDBOX_DECLINE:
            return RailResult("declined", txn, "insufficient_funds")
        if request.amount in (SANDBOX_TIMEOUT_THEN_APPROVE, SANDBOX_TIMEOUT_THEN_DECLINE):
            return RailResult("pending", "", "timeout")
        return RailResult("approved", txn)

    def status(self, request: ChargeRequest) -> RailResult:
        txn = self._transaction_id(request)
        if request.amount == SANDBOX_TIMEOUT_THEN_APPROVE:
            return RailResult("approved", txn)
        if request.amount == SANDBOX_TIMEOUT_THEN_DECLINE:
            return RailResult("declined", txn, "timeout")
        return self.charge(request)


# Where the sandbox lived before payments was cut by feature: a deployed
# ``.env`` may still name it so. Accepted, with a warning, until it is updated.
_OLD_PATHS = {"payments.rails.SandboxRail": "payments.code_entry.rails.SandboxRail"}


def rail_path() -> str:
    path: str = settings.MOBILE_MONEY_RAIL
    if path in _OLD_PATHS:
        logger.warning("MOBILE_MONEY_RAIL=%s is deprecated: set it to %s", path, _OLD_PATHS[path])
        return _OLD_PATHS[path]
    return path


def get_rail() -> MobileMoneyRail:
    rail: MobileMoneyRail = import_string(rail_path())()
    return rail
