from django.urls import include, path

# One urls module per feature; each owns its own paths under /api/v1/. The order
# is the one the paths had before payments was cut by feature (the schema follows it).
urlpatterns = [
    path("", include("payments.cards.urls")),
    path("", include("payments.sale_qr.urls")),
    path("", include("payments.bank_credits.urls")),
    path("", include("payments.code_entry.urls")),
    path("", include("payments.ledger.urls")),
]
