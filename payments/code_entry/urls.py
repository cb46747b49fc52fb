"""URLs of code entry (USSD, confirmation codes, offline sync), under /api/v1/."""

from __future__ import annotations

from django.urls import path

from payments.code_entry.api import (
    ConfirmApi,
    OfflineConfirmationListApi,
    OfflineKeyApi,
    OfflineKeyRotateApi,
    OfflineSyncApi,
    UssdApi,
)

urlpatterns = [
    path("ussd/", UssdApi.as_view(), name="ussd"),
    path("payments/offline-confirmations/", OfflineConfirmationListApi.as_view(), name="offline-confirmation-list"),
    path("payments/confirm/", ConfirmApi.as_view(), name="payment-confirm"),
    path("payments/offline-sync/", OfflineSyncApi.as_view(), name="payment-offline-sync"),
    path("vendors/me/offline-key/", OfflineKeyApi.as_view(), name="vendor-offline-key"),
    path("vendors/<int:pk>/offline-key/rotate/", OfflineKeyRotateApi.as_view(), name="vendor-offline-key-rotate"),
]
