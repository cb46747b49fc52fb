"""/dashboard/…: the dashboard pages (``stats.views``), namespace ``dashboard``."""

from django.urls import path

from stats import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("provinces/<str:code>/", views.province, name="province"),
    path("markets/<int:market_id>/", views.market, name="market"),
    path("volunteers/", views.volunteers, name="volunteers"),
    path("<str:kind>/<str:key>/target/", views.set_target, name="target"),
]
