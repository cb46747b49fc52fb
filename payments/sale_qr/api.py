"""Sale QRs (payment requests): create, list, retrieve, QR image, cancel.

A vendor creates and sees their own; the market's board, the province and
superusers those of vendors they manage. Volunteers can see the vendor but
not its sales (403). A vendor outside one's scope is a 404.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ApiError
from common.filters import parse_id
from common.http import SIZE_PARAMETER, AmountField, BinaryApi, image_response, qr_size
from payments.models import PaymentRequest
from payments.sale_qr import selectors, services
from vendors.models import Vendor
from vendors.selectors import vendor_list

IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
_KEY_MAX: Final = 64


class PaymentRequestOutput(serializers.ModelSerializer[PaymentRequest]):
    status = serializers.SerializerMethodField()
    qr_png_url = serializers.SerializerMethodField()

    class Meta:
        model = PaymentRequest
        fields = [
            "id", "reference", "payload", "amount", "expires_at", "status",
            # Beyond the list: what a vendor's app shows next to the QR.
            "note", "vendor", "market", "created_at", "paid_at", "qr_png_url",
        ]  # fmt: skip

    def get_status(self, request: PaymentRequest) -> str:
        """pending, paid, expired or cancelled; pending past expiry shows as expired."""
        return selectors.display_status(request)

    def get_qr_png_url(self, request: PaymentRequest) -> str:
        url = reverse("payment-request-qr-png", kwargs={"vendor_id": request.vendor_id, "pk": request.pk})
        return self.context["request"].build_absolute_uri(url)  # type: ignore[no-any-return]


class PaymentRequestCreateInput(serializers.Serializer[Any]):
    amount = AmountField()
    note = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    expires_in = serializers.IntegerField(
        required=False,
        min_value=services.MIN_TTL_SECONDS,
        max_value=services.MAX_TTL_SECONDS,
        help_text="Seconds until the QR expires; default PAYMENT_REQUEST_DEFAULT_TTL_SECONDS.",
    )


_STATUS_PARAMETER = OpenApiParameter(
    "status",
    str,
    enum=[s.value for s in PaymentRequest.Status],
    description="As displayed (overdue pending is expired).",
)


def _status_filter(request: Request) -> str | None:
    value = request.query_params.get("status") or None
    if value is not None and value not in PaymentRequest.Status.values:
        raise ApiError(
            "invalid_status",
            f"status must be one of {', '.join(PaymentRequest.Status.values)}.",
            field="status",
        )
    return value


def selling_vendor(request: Request, vendor_id: int) -> Vendor:
    """The vendor if the caller can see it (else 404) and may sell for it (else 403)."""
    vendor: Vendor = generics.get_object_or_404(vendor_list(user=request.user), pk=vendor_id)
    if not selectors.may_sell_for(user=request.user, vendor=vendor):
        raise PermissionDenied("Only the vendor, the market board and the province handle this vendor's sales.")
    return vendor


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= _KEY_MAX or not key.isascii() or not key.isprintable():
        raise ApiError(
            "invalid_idempotency_key", f"{IDEMPOTENCY_HEADER} must be 1–{_KEY_MAX} printable ASCII characters."
        )
    return key


class VendorPaymentRequestListCreateApi(generics.ListAPIView[PaymentRequest]):
    """A vendor's sale QRs, newest first; or create one (``Idempotency-Key``
    header: a retried create answers 200 with the first request)."""

    permission_classes = [IsAuthenticated]
    serializer_class = PaymentRequestOutput
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[PaymentRequest]:
        vendor = selling_vendor(self.request, self.kwargs["vendor_id"])
        return selectors.payment_request_list(
            user=self.request.user, vendor_id=vendor.pk, status=_status_filter(self.request)
        )

    @extend_schema(parameters=[_STATUS_PARAMETER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PaymentRequestCreateInput,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, str, OpenApiParameter.HEADER, required=False)],
        responses={
            201: PaymentRequestOutput,
            200: OpenApiResponse(PaymentRequestOutput, description="Replay of an earlier create with the same key."),
        },
    )
    def post(self, request: Request, vendor_id: int) -> Response:
        vendor = selling_vendor(request, vendor_id)
        data = PaymentRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        payment_request, created = services.payment_request_create(
            actor=request.user,  # type: ignore[arg-type]
            vendor=vendor,
            amount=data.validated_data["amount"],
            note=data.validated_data["note"],
            expires_in=data.validated_data.get("expires_in"),
            idempotency_key=_idempotency_key(request),
        )
        body = PaymentRequestOutput(payment_request, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _get_request(request: Request, vendor_id: int, pk: int) -> PaymentRequest:
    selling_vendor(request, vendor_id)
    payment_request = selectors.payment_request_get(user=request.user, vendor_id=vendor_id, request_id=pk)
    if payment_request is None:
        raise ApiError("not_found", "No such payment request.", status_code=status.HTTP_404_NOT_FOUND)
    return payment_request


class PaymentRequestDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: PaymentRequestOutput})
    def get(self, request: Request, vendor_id: int, pk: int) -> Response:
        payment_request = _get_request(request, vendor_id, pk)
        return Response(PaymentRequestOutput(payment_request, context={"request": request}).data)


class PaymentRequestCancelApi(APIView):
    """pending → cancelled; 409 ``invalid_transition`` if already paid, expired or cancelled."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: PaymentRequestOutput})
    def post(self, request: Request, vendor_id: int, pk: int) -> Response:
        payment_request = _get_request(request, vendor_id, pk)
        payment_request = services.payment_request_cancel(actor=request.user, request=payment_request)  # type: ignore[arg-type]
        return Response(PaymentRequestOutput(payment_request, context={"request": request}).data)


class PaymentRequestQRPngApi(BinaryApi):
    """The sale QR as a PNG, while the request is pending (410 once it is paid,
    expired or cancelled: a stale code must not be shown to a customer)."""

    @extend_schema(parameters=[SIZE_PARAMETER], responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request: Request, vendor_id: int, pk: int) -> HttpResponse:
        payment_request = _get_request(request, vendor_id, pk)
        shown = selectors.display_status(payment_request)
        if shown != PaymentRequest.Status.PENDING:
            raise ApiError(
                f"payment_request_{shown}",
                f"Payment request {payment_request.reference} is {shown}; its QR code is no longer valid.",
                status_code=status.HTTP_410_GONE,
            )
        return image_response(request, payload=payment_request.payload, kind="png", size=qr_size(request))


class PaymentRequestListApi(generics.ListAPIView[PaymentRequest]):
    """Every sale QR in the caller's scope (a board: its market's), newest
    first; filter by ``vendor``, ``market`` and ``status``."""

    permission_classes = [IsAuthenticated]
    serializer_class = PaymentRequestOutput
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[PaymentRequest]:
        qs = selectors.payment_request_list(user=self.request.user, status=_status_filter(self.request))
        for name in ("vendor", "market"):
            value = self.request.query_params.get(name)
            if value:
                qs = qs.filter(**{f"{name}_id": parse_id(value, name)})
        return qs

    @extend_schema(parameters=[_STATUS_PARAMETER, OpenApiParameter("vendor", int), OpenApiParameter("market", int)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
