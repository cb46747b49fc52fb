"""Fixtures of the code-entry tests: the test SMS gateway and the USSD secret
(``tests.payments.code_entry.support``, which also holds the USSD "phone")."""

from __future__ import annotations

from tests.payments.code_entry.support import sms, ussd_secret

__all__ = ["sms", "ussd_secret"]
