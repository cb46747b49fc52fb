"""/stall/…: each module of the app brings its own paths."""

from __future__ import annotations

from stall import codes, live, mine, pages, sale

app_name = "stall"
urlpatterns = [*pages.urlpatterns, *live.urlpatterns, *sale.urlpatterns, *codes.urlpatterns, *mine.urlpatterns]
