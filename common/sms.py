"""Sending an SMS from any app without importing payments.

The SMS outbox (``payments.sms.services.outbound_sms_queue``: a row written
in the caller's transaction, sent by a Celery task after the commit) lives in
payments, which builds on vendors, market and accounts; none of those may
reach up into it. So payments registers its outbox here when the app
registry is ready (``PaymentsConfig.ready``), and the services below it call
:func:`send_sms`: vendors (shared-account codes, a trader's account
invitation), market and accounts (invitations of board members and
volunteers). ``vendors.sms`` re-exports these names for the code that
imported them from there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

SmsSender = Callable[[str, str], object]  # (to: E.164 phone, body) → anything

_sender: SmsSender | None = None


def register_sms_sender(sender: SmsSender) -> None:
    global _sender
    _sender = sender


def send_sms(*, to: str, body: str) -> None:
    """Queue ``body`` for ``to`` in the current transaction (sent after it commits)."""
    if _sender is None:
        raise ImproperlyConfigured("no SMS sender is registered: is 'payments' in INSTALLED_APPS?")
    _sender(to, body)
