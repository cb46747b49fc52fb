"""ASGI entry point: the batching webhook intake in front of Django.

Served by gunicorn with uvicorn workers (the ``webhooks`` service of
docker-compose.yml; the worker class and why: ``config/workers.py``)::

    gunicorn config.asgi:application -k config.workers.SpreadUvicornWorker --reuse-port -w 3

Bank-credit webhook POSTs are recorded in batches by
``payments.bank_credits.intake``; every other request is Django's, unchanged
(correct, but the WSGI server of ``config.wsgi`` is the one to use for the
rest of the API and the admin).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from payments.bank_credits.intake import WebhookIntake  # noqa: E402 (needs the apps loaded above)

application = WebhookIntake(django_application)
