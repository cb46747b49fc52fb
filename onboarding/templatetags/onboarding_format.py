"""Template filters of the onboarding pages."""

from __future__ import annotations

from django import template

from chopay.identifiers import display_vn_mobile

register = template.Library()


@register.filter
def vn_mobile(value: str | None) -> str:
    """``+84912345678`` as people write it: ``0912 345 678`` (anything else unchanged)."""
    return display_vn_mobile(value) if value else ""
