"""URLs of VietQR codec, stall QR and stall cards, under /api/v1/."""

from __future__ import annotations

from django.urls import path

from payments.cards.api import (
    MarketCardsJobApi,
    MarketCardsJobDownloadApi,
    MarketCardsPdfApi,
    VendorCardPdfApi,
    VendorQRPngApi,
    VendorQRSvgApi,
    VietQRDecodeApi,
    VietQREncodeApi,
)

urlpatterns = [
    path("vietqr/decode/", VietQRDecodeApi.as_view(), name="vietqr-decode"),
    path("vietqr/encode/", VietQREncodeApi.as_view(), name="vietqr-encode"),
    path("vendors/<int:pk>/qr.png", VendorQRPngApi.as_view(), name="vendor-qr-png"),
    path("vendors/<int:pk>/qr.svg", VendorQRSvgApi.as_view(), name="vendor-qr-svg"),
    path("vendors/<int:pk>/card.pdf", VendorCardPdfApi.as_view(), name="vendor-card-pdf"),
    path("markets/<int:pk>/cards.pdf", MarketCardsPdfApi.as_view(), name="market-cards-pdf"),
    path("markets/<int:pk>/cards-jobs/<int:job_id>/", MarketCardsJobApi.as_view(), name="market-cards-job"),
    path(
        "markets/<int:pk>/cards-jobs/<int:job_id>/download/",
        MarketCardsJobDownloadApi.as_view(),
        name="market-cards-job-download",
    ),
]
