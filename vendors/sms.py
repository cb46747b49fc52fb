"""Sending an SMS from vendors without importing payments.

The hook moved down to ``common.sms`` so that market and accounts (below
vendors) can send invitations through the same outbox; these names stay
importable from here.
"""

from __future__ import annotations

from common.sms import SmsSender, register_sms_sender, send_sms

__all__ = ["SmsSender", "register_sms_sender", "send_sms"]
