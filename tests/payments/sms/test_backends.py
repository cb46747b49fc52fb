"""Which SMS adapter ``settings.SMS_BACKEND`` names, old paths included."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from payments.sms.backends import ConsoleSMSBackend, LocmemSMSBackend, get_sms_backend


def test_it_uses_the_backend_named_in_settings(settings: Any) -> None:
    settings.SMS_BACKEND = "payments.sms.backends.LocmemSMSBackend"

    assert isinstance(get_sms_backend(), LocmemSMSBackend)


def test_it_still_accepts_the_path_a_deployed_env_may_name_with_a_warning(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SMS_BACKEND = "payments.sms.ConsoleSMSBackend"  # before payments was cut by feature

    with caplog.at_level(logging.WARNING, logger="payments.sms.backends"):
        backend = get_sms_backend()

    assert isinstance(backend, ConsoleSMSBackend)
    assert "payments.sms.backends.ConsoleSMSBackend" in caplog.text
