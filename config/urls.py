from __future__ import annotations

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from config import health, views
from config.api_docs import ApiDocsView
from config.auth_api import TokenApi

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("", include("market.urls")),
    path("", include("vendors.urls")),
    path("", include("payments.urls")),
    path("stats/", include("stats.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("accounts.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("dashboard/", include("stats.web_urls")),
    path("onboard/", include("onboarding.urls")),
    path("stall/", include("stall.urls")),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler404 = "common.api.handler404"
handler500 = "common.api.handler500"
