"""Celery tasks of the payments app, one module per area.

Celery's autodiscovery imports ``payments.tasks``; importing the submodules
here registers their tasks.
"""

from payments.tasks import code_entry, requests, webhooks  # noqa: F401
