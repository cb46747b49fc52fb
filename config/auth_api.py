"""``POST /api/v1/auth/token/``: exchange a username and password for an API token."""

from __future__ import annotations

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle


class LoginThrottle(AnonRateThrottle):
    scope = "login"
    rate = "20/min"


class TokenApi(ObtainAuthToken):
    throttle_classes = [LoginThrottle]
