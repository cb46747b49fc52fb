"""Cross-cutting API plumbing: the project's error format, pagination, and a
related field for text keys.

Every error leaves the API as ``{"error": {"code": ..., "message": ...}}``;
validation errors add ``fields``: ``{field: [{"code", "message"}]}`` so a
client can highlight the right input. Services raise the domain errors of
``common.errors``; the handler here gives each its status (400, 403, 404,
409, 429 with ``Retry-After`` when known) and the body above with its
``field``, as it does for ``ApiError`` raised by API views.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from common.database import database_unavailable, log_unavailable, unavailable_body, unavailable_headers
from common.errors import DomainError


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class CodeRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A ``PrimaryKeyRelatedField`` for a text key (a ward's code, a bank's BIN).
    A value holding a NUL character is refused as unknown before the lookup:
    PostgreSQL cannot take NUL in text, so the query would fail with a 500."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", pk_value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class ApiError(exceptions.APIException):
    """An error with an explicit machine-readable code, raised by API views
    (services raise ``common.errors.DomainError``)."""

    def __init__(
        self, code: str, message: str, *, status_code: int = status.HTTP_400_BAD_REQUEST, field: str | None = None
    ) -> None:
        self.status_code = status_code
        self.error_code = code
        self.field = field
        super().__init__(detail=message, code=code)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[dict[str, str]]]:
    """Turn DRF's nested error detail into ``{"field.sub": [{"code","message"}]}``."""
    out: dict[str, list[dict[str, str]]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, errors in _flatten(value, name).items():
                out.setdefault(sub, []).extend(errors)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)) and not isinstance(item, exceptions.ErrorDetail):
                name = f"{prefix}.{index}" if prefix else str(index)
                for sub, errors in _flatten(item, name).items():
                    out.setdefault(sub, []).extend(errors)
            else:
                out.setdefault(prefix or "non_field_errors", []).append(
                    {"code": getattr(item, "code", "invalid") or "invalid", "message": str(item)}
                )
    else:
        out.setdefault(prefix or "non_field_errors", []).append(
            {"code": getattr(detail, "code", "invalid") or "invalid", "message": str(detail)}
        )
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if database_unavailable(exc):
        # Down, unreachable or past its timeouts: nothing was recorded; try again later.
        request = context.get("request")
        log_unavailable(request.path if request is not None else "?", exc)
        set_rollback()
        return Response(unavailable_body(), status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=unavailable_headers())
    if isinstance(exc, DomainError):
        set_rollback()
        extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
        return Response(
            error_body(exc.code, str(exc.message), **extra), status=exc.status, headers=exc.headers() or None
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, ApiError):
        field: dict[str, Any] = {"field": exc.field} if exc.field else {}
        response.data = error_body(exc.error_code, str(exc.detail), **field)
    elif isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first_field, first_errors = next(iter(fields.items()))
        first = first_errors[0]
        message = first["message"] if first_field == "non_field_errors" else f"{first_field}: {first['message']}"
        response.data = error_body(first["code"], message, fields=fields)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        response.data = error_body(str(code), str(exc.detail))
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception or Http404())


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", _("Internal error; it has been logged.")), status=500)
    return defaults.server_error(request)
