"""/onboard/…: the bulk import (namespace ``onboard``)."""

from __future__ import annotations

from django.urls import path

from onboarding.imports import views

urlpatterns = [
    path("markets/<int:market_id>/import/", views.market_import, name="import"),
    path("provinces/<str:code>/import/", views.province_import, name="import-province"),
    path("import/template.<str:fmt>", views.template_download, name="import-template"),
    path("imports/<int:job_id>/", views.job_detail, name="import-job"),
    path("imports/<int:job_id>/status/", views.job_status, name="import-status"),
]
