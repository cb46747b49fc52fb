"""Celery tasks of the onboarding app: each feature keeps its own ``tasks.py``;
Celery's autodiscovery imports this module, which registers theirs."""

from onboarding.imports import tasks as imports_tasks  # noqa: F401
