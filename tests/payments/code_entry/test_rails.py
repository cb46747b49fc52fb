"""Which rail ``settings.MOBILE_MONEY_RAIL`` names, old paths included."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from payments.code_entry.rails import SandboxRail, get_rail


def test_it_still_accepts_the_path_a_deployed_env_may_name_with_a_warning(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MOBILE_MONEY_RAIL = "payments.rails.SandboxRail"  # before payments was cut by feature

    with caplog.at_level(logging.WARNING, logger="payments.code_entry.rails"):
        rail = get_rail()

    assert isinstance(rail, SandboxRail)
    assert "payments.code_entry.rails.SandboxRail" in caplog.text
