"""Celery tasks of the payments app: each feature keeps its own ``tasks.py``.

Celery's autodiscovery imports ``payments.tasks``; importing the features'
task modules here registers their tasks. Each task keeps the explicit
``name=`` it was first queued under (tests/config/test_celery_tasks.py), so
these moves renamed none.
"""

from payments.bank_credits import tasks as bank_credits_tasks  # noqa: F401
from payments.cards import tasks as cards_tasks  # noqa: F401
from payments.code_entry import tasks as code_entry_tasks  # noqa: F401
from payments.sale_qr import tasks as sale_qr_tasks  # noqa: F401
from payments.sms import tasks as sms_tasks  # noqa: F401
