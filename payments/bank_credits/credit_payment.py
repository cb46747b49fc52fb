"""The payment a bank credit makes: its fields, and the unsaved ``Payment``.

Used by ``payments.bank_credits.ingest`` (one delivery) and
``payments.bank_credits.batching`` (many at once, which writes the fields
as rows and answers with the instances).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import signals
from django.db.models.base import ModelState

from payments.bank_credits.attribution import Attribution
from payments.bank_credits.providers.base import BankCredit
from payments.models import Payment, local_date


def _payer(credit: BankCredit) -> str:
    tail = credit.payer_account[-4:]
    masked = f"••••{tail}" if tail else ""
    return " ".join(part for part in (credit.payer_name, masked) if part)[:64]


@functools.cache
def _payment_defaults() -> dict[str, Any] | None:
    """Every Payment field's default by attname; None when one is a callable
    (it must then be called for each instance, as the constructor does)."""
    defaults: dict[str, Any] = {}
    for f in Payment._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            return None
        defaults[f.attname] = f.get_default()
    return defaults


def payment_values(credit: BankCredit, decision: Attribution) -> dict[str, Any]:
    """The fields (by attname) of the payment that records ``credit`` as ``decision`` attributes it."""
    return {
        "vendor_id": decision.vendor_id,
        "market_id": decision.market_id,
        "amount": credit.amount,
        "channel": decision.channel,
        "source": credit.source,
        "provider_txn_id": credit.provider_txn_id,
        "provider_reference": credit.provider_reference,
        "status": Payment.Status.SUCCEEDED,  # a bank credit is money that has arrived
        "attribution": decision.attribution,
        "payment_request_id": decision.payment_request.pk if decision.payment_request is not None else None,
        "amount_check": decision.amount_check,
        "payer_masked": _payer(credit),
        "receiving_account": credit.account_number,
        "content": credit.content,
        "occurred_at": credit.occurred_at,
        "local_date": local_date(credit.occurred_at),
    }


def payment_from(values: dict[str, Any]) -> Payment:
    """The unsaved ``Payment(**values)`` (``values`` by attname). The intake
    makes one per credit, and the constructor's field-by-field assignment
    was a twentieth of its CPU: the instance is filled as the constructor
    would fill it — the defaults, then ``values`` — in two dict updates. The
    constructor itself is used whenever that would not be the same: a
    callable default, a listener of ``pre_init``/``post_init``, or a name
    that is no field (the constructor then raises)."""
    defaults = _payment_defaults()
    if (
        defaults is None
        or not defaults.keys() >= values.keys()
        or signals.pre_init.has_listeners(Payment)
        or signals.post_init.has_listeners(Payment)
    ):
        return Payment(**values)
    payment = Payment.__new__(Payment)
    payment._state = ModelState()
    payment.__dict__.update(defaults)
    payment.__dict__.update(values)
    return payment


def new_payment(credit: BankCredit, decision: Attribution) -> Payment:
    payment = payment_from(payment_values(credit, decision))
    if decision.payment_request is not None:
        payment.payment_request = decision.payment_request  # the row at hand, not read again
    return payment
