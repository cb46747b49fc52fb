"""Fixtures of the SMS tests: the test SMS gateway, and the USSD secret for the
tests that cause an SMS through a code-entry payment."""

from __future__ import annotations

from tests.payments.code_entry.support import sms, ussd_secret

__all__ = ["sms", "ussd_secret"]
