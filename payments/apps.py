from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # The apps below (vendors: shared-account codes; accounts, market, vendors:
        # invitations) send SMS through this app's outbox without importing
        # payments: see common/sms.py.
        from common.sms import register_sms_sender
        from payments.sms.services import outbound_sms_queue

        register_sms_sender(lambda to, body: outbound_sms_queue(to=to, body=body))
