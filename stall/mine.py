"""(filled by the mine part of the stall issue)"""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
