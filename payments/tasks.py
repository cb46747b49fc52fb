"""Celery tasks of the payments app, one module per area.

Celery's autodiscovery imports ``payments.tasks``; importing the submodules
here registers their tasks.
"""

from payments.bank_credits import tasks as bank_credits_tasks  # noqa: F401
from payments.cards import tasks as cards_tasks  # noqa: F401
from payments.code_entry import tasks as code_entry_tasks  # noqa: F401
from payments.sale_qr import tasks as sale_qr_tasks  # noqa: F401
from payments.sms import tasks as sms_tasks  # noqa: F401
