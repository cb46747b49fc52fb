"""The volunteer's pages, in the ``onboard`` namespace (onboarding/urls.py)."""

from __future__ import annotations

from django.urls import path

from onboarding.traders import views

urlpatterns = [
    path("", views.start, name="start"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("traders/", views.my_traders, name="traders"),
    path("traders/new/<int:market_id>/", views.trader_new, name="trader-new"),
    path("traders/<int:vendor_id>/", views.trader, name="trader"),
]
