"""What every page's header shows (templates/partials/header.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from market import roles


def role_label(request: HttpRequest) -> str:
    role = roles.main_role(request.user)
    return str(roles.ROLE_LABELS[role]) if role else ""


def header(request: HttpRequest) -> dict[str, Any]:
    """``cho40_role_label``: the signed-in user's highest role as a label
    ("Ban quản lý chợ"), empty without one. Lazy: its queries run only on a
    page that shows it."""
    return {"cho40_role_label": SimpleLazyObject(lambda: role_label(request))}
