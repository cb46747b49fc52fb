"""Template filters writing the dashboard's figures in the active language:
``{{ value|dong }}`` → ``1.234.567 ₫``, ``|dong_short`` → ``1,2 tr``,
``|num`` → ``1.234``, ``|pct`` → ``45 %``, ``|vdate`` → ``06/12/2026``,
``|tel`` → ``tel:0912345678`` (a phone number a board member can tap)."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.translation import get_language

from stats import formatting

register = template.Library()


def _lang() -> str:
    return get_language() or "vi"


@register.filter
def dong(value: Any) -> str:
    return formatting.format_dong(None if value in (None, "") else int(value), lang=_lang())


@register.filter
def dong_short(value: Any) -> str:
    return formatting.short_dong(None if value in (None, "") else int(value), lang=_lang())


@register.filter
def num(value: Any) -> str:
    return formatting.format_int(None if value in (None, "") else int(value), lang=_lang())


@register.filter
def pct(value: Any, places: int = 0) -> str:
    return formatting.format_percent(None if value in (None, "") else float(value), lang=_lang(), places=int(places))


@register.filter
def seconds(value: Any) -> str:
    """A delay in milliseconds as seconds with one decimal: ``1500`` → ``1,5 s`` (``1.5 s`` in English)."""
    if value in (None, ""):
        return "–"
    text = f"{int(value) / 1000:.1f}"
    return f"{text.replace('.', ',') if _lang().startswith('vi') else text} s"


@register.filter
def vdate(value: Any) -> str:
    return formatting.format_date(value or None, lang=_lang())


@register.filter
def tel(value: Any) -> str:
    """``0912 345 678`` or ``+84 912 345 678`` → ``tel:0912345678`` / ``tel:+84912345678``."""
    text = str(value or "")
    digits = re.sub(r"[^\d]", "", text)
    return f"tel:{'+' if text.strip().startswith('+') else ''}{digits}"
