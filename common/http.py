"""HTTP pieces an API module may share: an amount in đồng (up to VietQR's
13 digits), views that answer with an image or a PDF, and the QR image
responses (today the stall QR and the sale QR of ``payments.cards`` and
``payments.sale_qr``).

They sit on the ground floor because they need nothing of any app, only
Django REST framework and the ``chopay`` library, and several apps' APIs
use them; in the payments ledger (their first home) they were placed only
to satisfy the sibling rule between payments features, although the ledger
itself uses none of them.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from chopay import qr_images, vietqr

QR_DEFAULT_SIZE: Final = 512
QR_MIN_SIZE: Final = 128
QR_MAX_SIZE: Final = 2048


@extend_schema_field(OpenApiTypes.INT64)
class AmountField(serializers.Field):  # type: ignore[type-arg]
    """A whole number of đồng, 1 … 9,999,999,999,999 (13 digits, VietQR tag 54).

    Accepts a JSON integer or a string of digits; refuses floats (even 50000.0,
    the classic sign of an amount that went through a float), booleans,
    decimals and signs, with code ``invalid_amount``."""

    default_error_messages = {
        "invalid_amount": "Amount must be a whole number of đồng from 1 to 9999999999999, without decimals.",
    }

    def to_internal_value(self, data: Any) -> int:
        if type(data) is int:
            value = data
        elif isinstance(data, str) and 0 < len(data) <= 13 and data.isascii() and data.isdigit():
            value = int(data)
        else:
            self.fail("invalid_amount")
        if not 0 < value <= vietqr.MAX_AMOUNT:
            self.fail("invalid_amount")
        return value

    def to_representation(self, value: int) -> int:
        return value


class BinaryApi(APIView):
    """A view that answers with an image or a PDF, and with JSON on error.

    Content negotiation is forced to the JSON renderer, so that a client that
    sends ``Accept: image/png`` gets the image rather than a 406, and still a
    JSON error body if something goes wrong."""

    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class QRImageInput(serializers.Serializer[Any]):
    size = serializers.IntegerField(min_value=QR_MIN_SIZE, max_value=QR_MAX_SIZE, default=QR_DEFAULT_SIZE)


def qr_size(request: Request) -> int:
    data = QRImageInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    return int(data.validated_data["size"])


def image_response(request: Request, *, payload: str, kind: str, size: int) -> HttpResponse:
    """The QR of ``payload`` as a PNG or SVG response, with an ETag so that a
    client re-showing the same code gets a 304 without any rendering. The
    payload changes whenever the vendor's bank details do, and so does the tag."""
    etag = '"' + hashlib.sha256(f"{kind}:{size}:{payload}".encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponse(status=304, headers=headers)
    if kind == "png":
        return HttpResponse(qr_images.render_png(payload, size=size), content_type="image/png", headers=headers)
    return HttpResponse(qr_images.render_svg(payload, size=size), content_type="image/svg+xml", headers=headers)


SIZE_PARAMETER = OpenApiParameter(
    "size",
    int,
    description=f"Largest width in pixels ({QR_MIN_SIZE}–{QR_MAX_SIZE}, default {QR_DEFAULT_SIZE}); "
    "the image is the largest whole number of pixels per module that fits, quiet zone included.",
)
