"""Celery tasks of the payments app, one module per area.

Celery's autodiscovery imports ``payments.tasks``; importing the submodules
here registers their tasks.
"""

from payments.sms import tasks as sms_tasks  # noqa: F401
from payments.tasks import code_entry, requests, webhooks  # noqa: F401
