from django.urls import include, path

# One module per area; each owns its own paths under /api/v1/.
urlpatterns = [
    path("", include("payments.cards.urls")),
    path("", include("payments.sale_qr.urls")),
    path("", include("payments.bank_credits.urls")),
    path("", include("payments.code_entry.urls")),
    path("", include("payments.ledger.urls")),
]
