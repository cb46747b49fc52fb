"""Query-string parsing shared by the list endpoints.

Ids in filters are PostgreSQL bigints: anything that is not a plain ASCII
number in that range is a 400 with the field named, never a database error
(SQLite, the embedded default, cannot even bind an integer past 2**63 - 1).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from common.api import ApiError

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An id: an integer (NumberFilter alone takes "1.5") within bigint's range."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def parse_id(value: str, name: str) -> int:
    """``value`` of query parameter ``name`` as an id, or a 400 naming it."""
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        raise ApiError(f"invalid_{name}", f"{name} must be an id.", field=name)
    return int(value)
