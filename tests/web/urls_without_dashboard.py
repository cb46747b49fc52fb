"""The project's URLs without the ``dashboard`` namespace (before ``stats`` is installed)."""

from __future__ import annotations

from config.urls import handler404, handler500  # noqa: F401
from tests.web.urls import without_dashboard as urlpatterns  # noqa: F401
