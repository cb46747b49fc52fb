"""Celery tasks; see payments/tasks/__init__.py."""
