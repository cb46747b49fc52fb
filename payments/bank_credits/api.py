"""Bank-credit webhooks: ``POST /api/v1/webhooks/{sepay,casso,payos}/``.

Anyone on the Internet can reach these URLs, so there is no user
authentication: the provider's signature is the authentication, checked in
``payments.bank_credits.ingest``. A success is answered in the provider's own
format (so that it stops retrying, duplicates included); a refusal in the
project's error format with 400 (malformed), 401 (unsigned), 403 (bad or stale
signature) or 503 (the provider's key is not configured; or, with
``Retry-After``, the database is unavailable: ``common.api``'s exception handler).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from common.api import ApiError
from common.client_address import client_address
from payments.bank_credits import ingest, webhook_limits
from payments.bank_credits.providers import casso, payos, sepay
from payments.bank_credits.providers.base import WebhookError


class _WebhookApi(APIView):
    # The signature is the authentication; no session, token or CSRF applies.
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    provider: ModuleType

    def post(self, request: Request) -> JsonResponse:
        remote_addr = client_address(request.META)
        try:
            size = webhook_limits.declared_size(request.META)
            if size > webhook_limits.max_body_bytes():  # refused before the body is read
                raise ingest.webhook_refuse_oversized(provider=self.provider, size=size, remote_addr=remote_addr)
            ingest.webhook_ingest(
                provider=self.provider, headers=request.headers, body=request.body, remote_addr=remote_addr
            )
        except WebhookError as exc:
            error = ApiError(exc.code, exc.message, status_code=exc.status)
            error.wait = webhook_limits.retry_after(exc)  # type: ignore[attr-defined]  # DRF's Retry-After
            raise error from None
        return JsonResponse(self.provider.SUCCESS_REPLY)


_REFUSALS = {
    400: OpenApiResponse(description="Malformed body (kept as a failed delivery)."),
    401: OpenApiResponse(description="No signature or API key."),
    403: OpenApiResponse(description="Wrong or stale signature."),
    413: OpenApiResponse(description="Body larger than WEBHOOK_MAX_BODY_BYTES (not stored)."),
    429: OpenApiResponse(description="Too many refused deliveries from this address; this one fails verification too."),
    503: OpenApiResponse(
        description="The provider's key is not configured, or the database is unavailable (Retry-After)."
    ),
}


@extend_schema(
    request={"application/json": {"type": "object"}},
    responses={200: OpenApiResponse(description='{"success": true}'), **_REFUSALS},
    summary="SePay bank-credit webhook (Authorization: Apikey, or X-SePay-Signature HMAC-SHA256)",
)
class SepayWebhookApi(_WebhookApi):
    provider = sepay


@extend_schema(
    request={"application/json": {"type": "object"}},
    responses={200: OpenApiResponse(description='{"success": true}'), **_REFUSALS},
    summary="Casso webhook v2 (X-Casso-Signature: t=…,v1=… HMAC-SHA512)",
)
class CassoWebhookApi(_WebhookApi):
    provider = casso


@extend_schema(
    request={"application/json": {"type": "object"}},
    responses={200: OpenApiResponse(description='{"error": 0, "message": "Ok", "data": null}'), **_REFUSALS},
    summary="payOS payment webhook (signature in the body, HMAC-SHA256)",
)
class PayosWebhookApi(_WebhookApi):
    provider = payos
