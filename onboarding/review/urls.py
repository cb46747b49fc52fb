"""The board's pages, under /onboard/ (namespace ``onboard``)."""

from django.urls import path

from onboarding.review import views

urlpatterns = [
    path("markets/<int:market_id>/", views.board_home, name="board"),
    path("markets/<int:market_id>/review/", views.review, name="board-review"),
    path("markets/<int:market_id>/review/<int:vendor_id>/approve/", views.approve, name="board-approve"),
    path("markets/<int:market_id>/review/<int:vendor_id>/reject/", views.reject, name="board-reject"),
    path("markets/<int:market_id>/payout-changes/", views.payouts, name="board-payouts"),
    path(
        "markets/<int:market_id>/payout-changes/<int:change_id>/approve/",
        views.payout_approve,
        name="board-payout-approve",
    ),
    path(
        "markets/<int:market_id>/payout-changes/<int:change_id>/reject/",
        views.payout_reject,
        name="board-payout-reject",
    ),
    path("markets/<int:market_id>/cards/", views.cards, name="board-cards"),
    # A rejected registration corrected and sent again (volunteers too): link it from their pages.
    path("markets/<int:market_id>/traders/<int:vendor_id>/correct/", views.correct, name="resubmit"),
]
