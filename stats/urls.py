"""/api/v1/stats/…: the statistics of a scope and the targets (``stats.api``)."""

from django.urls import path

from stats import api

urlpatterns = [
    path("", api.StatsHomeApi.as_view(), name="stats-home"),
    path("provinces/<str:code>/", api.ProvinceStatsApi.as_view(), name="stats-province"),
    path("provinces/<str:code>/target/", api.ProvinceTargetApi.as_view(), name="stats-province-target"),
    path("wards/<str:code>/", api.WardStatsApi.as_view(), name="stats-ward"),
    path("markets/<int:market_id>/", api.MarketStatsApi.as_view(), name="stats-market"),
    path("markets/<int:market_id>/target/", api.MarketTargetApi.as_view(), name="stats-market-target"),
    path("volunteers/", api.VolunteerStatsApi.as_view(), name="stats-volunteers"),
]
