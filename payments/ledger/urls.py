"""URLs of the payments ledger (list, summary, CSV, unmatched queue, status changes), under /api/v1/."""

from __future__ import annotations

from django.urls import path

from payments.ledger.api import (
    PaymentAssignApi,
    PaymentDetailApi,
    PaymentDisputeApi,
    PaymentExportCsvApi,
    PaymentListApi,
    PaymentReassignApi,
    PaymentRefundApi,
    PaymentResolveApi,
    PaymentSummaryApi,
    UnmatchedListApi,
)

urlpatterns = [
    path("payments/", PaymentListApi.as_view(), name="payment-list"),
    path("payments/export.csv", PaymentExportCsvApi.as_view(), name="payment-export-csv"),
    path("payments/summary/", PaymentSummaryApi.as_view(), name="payment-summary"),
    path("payments/unmatched/", UnmatchedListApi.as_view(), name="payment-unmatched"),
    path("payments/<int:pk>/", PaymentDetailApi.as_view(), name="payment-detail"),
    path("payments/<int:pk>/assign/", PaymentAssignApi.as_view(), name="payment-assign"),
    path("payments/<int:pk>/refund/", PaymentRefundApi.as_view(), name="payment-refund"),
    path("payments/<int:pk>/dispute/", PaymentDisputeApi.as_view(), name="payment-dispute"),
    path("payments/<int:pk>/resolve/", PaymentResolveApi.as_view(), name="payment-resolve"),
    path("payments/<int:pk>/reassign/", PaymentReassignApi.as_view(), name="payment-reassign"),
]
