"""/onboard/…: the onboarding pages, namespace ``onboard``. Each feature
package adds its own ``urls.py`` here."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "onboard"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("onboarding.traders.urls")),  # the volunteer's pages
    path("people/", include("onboarding.people.urls")),
    path("", include("onboarding.imports.urls")),
    path("", include("onboarding.review.urls")),  # the board: /onboard/markets/<id>/…
]
