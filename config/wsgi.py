from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# Bank-credit webhook POSTs take a lean lane to the same ingest service
# (payments/bank_credits/wsgi.py says what it keeps of Django's handling);
# everything else is Django as usual.
from payments.bank_credits.wsgi import WebhookLane  # noqa: E402 (needs the apps loaded above)

application = WebhookLane(django_application)
