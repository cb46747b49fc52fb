"""URLs of bank-credit webhooks, under /api/v1/."""

from __future__ import annotations

from django.urls import path

from payments.bank_credits.api import CassoWebhookApi, PayosWebhookApi, SepayWebhookApi

urlpatterns = [
    path("webhooks/sepay/", SepayWebhookApi.as_view(), name="webhook-sepay"),
    path("webhooks/casso/", CassoWebhookApi.as_view(), name="webhook-casso"),
    path("webhooks/payos/", PayosWebhookApi.as_view(), name="webhook-payos"),
]
