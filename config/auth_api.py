"""``POST /api/v1/auth/token/``: exchange a username and password for an API token.

Behind the sign-in throttle (``accounts.sign_in``): too many failures for the
account or the client address answer 429 ``too_many_attempts`` with
``Retry-After``; an unreachable throttle cache answers 503
``sign_in_unavailable`` with ``Retry-After``. The token ends when its user is
deactivated, changes password, or leaves it unused for
``API_TOKEN_IDLE_TIMEOUT_DAYS``; signing in again then returns a fresh one.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import api_token_issue
from accounts.sign_in import SignInUnavailable, TooManyAttempts, sign_in
from common.api import ApiError


class _Refused(ApiError):
    def __init__(self, code: str, message: str, *, status_code: int, wait: int) -> None:
        super().__init__(code, message, status_code=status_code)
        self.wait = wait  # DRF's exception handler turns this into Retry-After


class TokenApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    class TokenInput(serializers.Serializer[Any]):
        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    class TokenOutput(serializers.Serializer[Any]):
        token = serializers.CharField()

    @extend_schema(
        request=TokenInput,
        responses={
            200: TokenOutput,
            400: OpenApiResponse(description="Wrong username or password (or a missing field)."),
            429: OpenApiResponse(description="Too many failed sign-ins for this account or address (Retry-After)."),
            503: OpenApiResponse(description="Sign-in is unavailable for a moment (Retry-After)."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = sign_in(request, username=data.validated_data["username"], password=data.validated_data["password"])
        except TooManyAttempts as refused:
            raise _Refused(
                "too_many_attempts",
                _("Too many failed sign-in attempts; try again in %(seconds)d seconds.")
                % {"seconds": refused.retry_after},
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                wait=refused.retry_after,
            ) from None
        except SignInUnavailable as unavailable:
            raise _Refused(
                "sign_in_unavailable",
                _("Sign-in is unavailable for a moment; try again shortly."),
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                wait=unavailable.retry_after,
            ) from None
        if user is None:
            raise ApiError("authorization", _("Unable to log in with provided credentials."))
        return Response(self.TokenOutput({"token": api_token_issue(user=user).key}).data)
