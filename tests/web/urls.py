"""The project's URLs with a stand-in ``dashboard`` namespace when the dashboard
(``stats``) is not installed, so that where ``/`` sends each role can be tested
either way: the assertions compare with ``reverse("dashboard:…")``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urls

urlpatterns: list[URLPattern | URLResolver] = list(project_urls)


def _stand_in(request: HttpRequest, market_id: int | None = None) -> HttpResponse:
    return HttpResponse(f"<h1>dashboard stand-in {market_id or ''}</h1>")


try:
    reverse("dashboard:home", urlconf="config.urls")
except NoReverseMatch:
    stand_in = [path("", _stand_in, name="home"), path("markets/<int:market_id>/", _stand_in, name="market")]
    urlpatterns.append(path("dashboard/", include((stand_in, "dashboard"))))

# The project's URLs without the dashboard, for the fallback while it is not installed.
without_dashboard = [p for p in project_urls if getattr(p, "namespace", None) != "dashboard"]
