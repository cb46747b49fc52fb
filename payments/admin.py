"""Django admin of the payments app, autodiscovered here: each feature registers
its own models; any model left without an admin gets a scoped read-only one
(``payments.ledger.admin_base``)."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from payments.bank_credits import admin as bank_credits_admin  # noqa: F401
from payments.code_entry import admin as code_entry_admin  # noqa: F401
from payments.ledger import admin as ledger_admin  # noqa: F401
from payments.ledger.admin_base import fallback_admin
from payments.sale_qr import admin as sale_qr_admin  # noqa: F401
from payments.sms import admin as sms_admin  # noqa: F401

for _model in apps.get_app_config("payments").get_models():
    if not admin.site.is_registered(_model):
        admin.site.register(_model, fallback_admin(_model))
