"""Fixtures of the volunteer pages' tests: the SMS gateway (locmem) and the
form a volunteer sends."""

from __future__ import annotations

from tests.payments.code_entry.support import sms

__all__ = ["sms"]
