"""URLs of sale QRs (payment requests), under /api/v1/."""

from __future__ import annotations

from django.urls import path

from payments.sale_qr.api import (
    PaymentRequestCancelApi,
    PaymentRequestDetailApi,
    PaymentRequestListApi,
    PaymentRequestQRPngApi,
    VendorPaymentRequestListCreateApi,
)

urlpatterns = [
    path("payment-requests/", PaymentRequestListApi.as_view(), name="payment-request-list"),
    path(
        "vendors/<int:vendor_id>/payment-requests/",
        VendorPaymentRequestListCreateApi.as_view(),
        name="vendor-payment-request-list",
    ),
    path(
        "vendors/<int:vendor_id>/payment-requests/<int:pk>/",
        PaymentRequestDetailApi.as_view(),
        name="payment-request-detail",
    ),
    path(
        "vendors/<int:vendor_id>/payment-requests/<int:pk>/cancel/",
        PaymentRequestCancelApi.as_view(),
        name="payment-request-cancel",
    ),
    path(
        "vendors/<int:vendor_id>/payment-requests/<int:pk>/qr.png",
        PaymentRequestQRPngApi.as_view(),
        name="payment-request-qr-png",
    ),
]
