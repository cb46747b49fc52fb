from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # vendors sends SMS (a shared-account confirmation code) through this
        # app's outbox without importing payments: see vendors/sms.py.
        from payments.sms.services import outbound_sms_queue
        from vendors.sms import register_sms_sender

        register_sms_sender(lambda to, body: outbound_sms_queue(to=to, body=body))
