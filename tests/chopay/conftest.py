"""The library's tests need no database and no cache: the project-wide
autouse fixtures that empty the cache and reload reference data are replaced
here by ones that do nothing, so these tests run without a test database."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """No cache to empty: chopay has none."""


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    """No reference data to load: chopay ships its own bank list."""
