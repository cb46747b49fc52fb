"""/onboard/people/…: the people of a market (included by onboarding/urls.py)."""

from __future__ import annotations

from django.urls import path

from onboarding.people import views

urlpatterns = [
    path("", views.market_list, name="people"),
    path("<int:market_id>/", views.market_people, name="people_market"),
    path("<int:market_id>/invite/", views.invite, name="people_invite"),
    path("<int:market_id>/remove/<str:role>/<int:user_id>/", views.remove, name="people_remove"),
]
