from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health, views
from config.auth_api import TokenApi


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI with the site's Cross-Origin-Opener-Policy: drf-spectacular sends
    ``unsafe-none`` for OAuth2 sign-in pop-ups, which this API does not use (found
    by the deployment drill's header sweep)."""

    @extend_schema(exclude=True)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


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
