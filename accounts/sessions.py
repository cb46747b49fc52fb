"""The session store (``SESSION_ENGINE = "accounts.sessions"``): Django's
database sessions, with the signed-in user's id on the row
(``accounts.models.UserSession``), so that ending a person's sessions is one
``DELETE … WHERE user_id = …`` instead of decoding every session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> Any:
        from accounts.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        try:
            instance.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            instance.user_id = None
        return instance
