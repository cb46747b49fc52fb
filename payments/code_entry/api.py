"""Code entry without data: the USSD endpoint, confirmation, offline key and sync.

See docs/code-entry.md for the menu, the code algorithm and the sync protocol.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chopay import codes
from common.api import ApiError
from common.client_address import client_address
from common.errors import TooManyAttempts
from payments.code_entry import confirmation, offline, offline_sync, selectors, ussd_payments
from payments.models import ConfirmationAttempt, OfflineConfirmation, Payment
from vendors.models import Vendor
from vendors.selectors import vendor_for_user, vendor_list

_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _own_vendor(request: Request) -> Vendor:
    vendor = vendor_for_user(user=request.user)
    if vendor is None:
        raise NotFound("You are not registered as a vendor.")
    return vendor


# --- USSD --------------------------------------------------------------------------


class UssdApi(APIView):
    """The aggregator's callback: one POST per USSD screen, ``text/plain`` reply.

    Authenticated by the shared secret in ``X-Ussd-Secret``, not by a user.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    class UssdInput(serializers.Serializer[Any]):
        sessionId = serializers.CharField(max_length=64)  # the aggregator's field names (camelCase)
        serviceCode = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
        phoneNumber = serializers.CharField(max_length=20)
        text = serializers.CharField(
            max_length=1000, required=False, allow_blank=True, default="", trim_whitespace=False
        )

    def _check_secret(self, request: Request) -> None:
        expected = settings.USSD_SHARED_SECRET
        if not expected:
            raise ApiError(
                "ussd_disabled",
                "USSD is not configured (USSD_SHARED_SECRET).",
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        given = request.headers.get("X-Ussd-Secret", "")
        if not given:
            raise ApiError(
                "missing_secret", "X-Ussd-Secret header is required.", status_code=status.HTTP_401_UNAUTHORIZED
            )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError("invalid_secret", "X-Ussd-Secret is wrong.", status_code=status.HTTP_403_FORBIDDEN)

    @extend_schema(
        request={"application/x-www-form-urlencoded": UssdInput},
        responses={(200, "text/plain"): OpenApiTypes.STR},
        parameters=[OpenApiParameter("X-Ussd-Secret", str, OpenApiParameter.HEADER, required=True)],
        auth=[],
    )
    def post(self, request: Request) -> HttpResponse:
        self._check_secret(request)
        data = self.UssdInput(data=request.data)
        data.is_valid(raise_exception=True)
        reply = ussd_payments.ussd_handle(
            session_id=data.validated_data["sessionId"],
            phone_number=data.validated_data["phoneNumber"],
            service_code=data.validated_data["serviceCode"],
            text=data.validated_data["text"],
        )
        return HttpResponse(reply.wire, content_type="text/plain; charset=utf-8")


# --- Confirmation by the vendor ---------------------------------------------------------


class PaymentBrief(serializers.ModelSerializer[Payment]):
    class Meta:
        model = Payment
        fields = ["id", "amount", "status", "occurred_at", "payer_masked", "provider_reference", "vendor_confirmed_at"]


class ConfirmApi(APIView):
    """The vendor checks the code a customer shows: at most 5 wrong codes per 15 minutes."""

    permission_classes = [IsAuthenticated]

    class ConfirmInput(serializers.Serializer[Any]):
        merchant_code = serializers.CharField(max_length=16)
        # Any short string: a malformed code is a wrong attempt, logged and counted.
        code = serializers.CharField(max_length=16)
        amount = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class ConfirmOutput(serializers.Serializer[Any]):
        confirmed = serializers.BooleanField()
        payment = PaymentBrief()

    @extend_schema(request=ConfirmInput, responses={200: ConfirmOutput})
    def post(self, request: Request) -> Response:
        data = self.ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = _own_vendor(request)
        if data.validated_data["merchant_code"].strip() != vendor.merchant_code:
            raise NotFound("Unknown merchant code.")
        result = confirmation.confirmation_code_confirm(
            vendor=vendor,
            user=request.user,  # type: ignore[arg-type]
            code=data.validated_data["code"].strip(),
            amount=data.validated_data.get("amount"),
            remote_addr=client_address(request.META),
        )
        Outcome = ConfirmationAttempt.Outcome
        if result.outcome == Outcome.THROTTLED:
            raise TooManyAttempts(
                "too_many_attempts",
                f"Too many wrong codes; try again in {result.retry_after} seconds.",
                retry_after=result.retry_after,
            )
        if result.outcome == Outcome.WRONG:
            raise ApiError("invalid_code", "This code does not match any payment to you.", field="code")
        if result.outcome == Outcome.USED:
            raise ApiError("code_already_used", "This code was already used.", status_code=status.HTTP_409_CONFLICT)
        if result.outcome == Outcome.EXPIRED:
            raise ApiError("code_expired", "This code has expired.", status_code=status.HTTP_410_GONE)
        return Response(self.ConfirmOutput({"confirmed": True, "payment": result.payment}).data)


# --- Offline key -------------------------------------------------------------------------


class OfflineKeyApi(APIView):
    """The vendor's key for verifying codes offline, shown once per device."""

    permission_classes = [IsAuthenticated]

    class OfflineKeyOutput(serializers.Serializer[Any]):
        device_id = serializers.CharField()
        key = serializers.CharField(help_text="The vendor's 32-byte HMAC key, hex.")
        key_encoding = serializers.CharField()
        algorithm = serializers.CharField()
        message = serializers.CharField()
        digits = serializers.IntegerField()
        counter = serializers.IntegerField(help_text="The vendor's counter now; the next code uses counter + 1.")
        window = serializers.IntegerField()

    @extend_schema(
        parameters=[
            OpenApiParameter("device_id", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("X-Device-Id", str, OpenApiParameter.HEADER, required=False),
        ],
        responses={200: OfflineKeyOutput},
    )
    def get(self, request: Request) -> Response:
        device_id = request.query_params.get("device_id") or request.headers.get("X-Device-Id", "")
        if not _DEVICE_ID.match(device_id):
            raise ApiError(
                "invalid_device_id",
                "Give device_id (query) or X-Device-Id (header): 1–64 letters, digits, '.', '_', ':' or '-'.",
                field="device_id",
            )
        granted = offline.offline_key_grant(vendor=_own_vendor(request), device_id=device_id)
        body = {
            "device_id": granted.device_id,
            "key": granted.key_hex,
            "key_encoding": "hex",
            "algorithm": codes.ALGORITHM,
            "message": "counter (uint64 big-endian) || amount in dong (uint64 big-endian)",
            "digits": codes.DIGITS,
            "counter": granted.counter,
            "window": codes.LOOK_AHEAD,
        }
        # The key must not linger in any cache between the vendor and us.
        return Response(self.OfflineKeyOutput(body).data, headers={"Cache-Control": "no-store"})


class OfflineKeyRotateApi(APIView):
    """A new key for a vendor whose device was lost: every device must fetch it again."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: inline_serializer("OfflineKeyRotated", {"revoked_devices": serializers.IntegerField()})},
    )
    def post(self, request: Request, pk: int) -> Response:
        vendor = generics.get_object_or_404(vendor_list(user=request.user), pk=pk)
        revoked = offline.vendor_rotate_code_secret(actor=request.user, vendor=vendor)  # type: ignore[arg-type]
        return Response({"revoked_devices": revoked})


# --- Offline sync ------------------------------------------------------------------------


class _DateTimeInRange(serializers.DateTimeField):
    """DRF's DateTimeField, but a naive time that cannot be placed in the
    server's zone (year 1, year 9999) is a 400 rather than an OverflowError."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class OfflineSyncItem(serializers.Serializer[Any]):
    client_uuid = serializers.UUIDField()
    code = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "code must be 6 digits."})
    amount = serializers.IntegerField(min_value=1, max_value=10**15)
    captured_at = _DateTimeInRange()


class OfflineSyncInput(serializers.Serializer[Any]):
    # Dicts, not OfflineSyncItem: a bad item gets its own error in the results
    # instead of failing the batch.
    confirmations = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=offline.OFFLINE_SYNC_MAX_ITEMS
    )


class OfflineSyncBatch(serializers.Serializer[Any]):
    """The request as documented (OfflineSyncInput is what parses it)."""

    confirmations = OfflineSyncItem(many=True)


class OfflineSyncItemResult(serializers.Serializer[Any]):
    client_uuid = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "matched", "flagged", "error"])
    payment = serializers.IntegerField(source="payment_id", allow_null=True)
    flag_reason = serializers.CharField()
    error = serializers.SerializerMethodField()

    def get_error(self, obj: offline.OfflineItemResult) -> dict[str, str] | None:
        return {"code": obj.error_code, "message": obj.error_message} if obj.error_code else None


class OfflineSyncOutput(serializers.Serializer[Any]):
    results = OfflineSyncItemResult(many=True)
    counter = serializers.IntegerField()


class OfflineSyncApi(APIView):
    """Upload confirmations verified offline; each item is idempotent per client_uuid."""

    permission_classes = [IsAuthenticated]

    def _parse(self, item: OfflineSyncItem, raw: dict[str, Any]) -> offline.OfflineItem | offline.OfflineItemResult:
        # One serializer validates every item (what is_valid() does, without building
        # the serializer's fields again for each of up to 100 items).
        try:
            v = item.run_validation(raw)
        except serializers.ValidationError as exc:
            assert isinstance(exc.detail, dict)
            field, errors = next(iter(exc.detail.items()))
            first = errors[0] if isinstance(errors, list) else errors
            return offline.OfflineItemResult(
                client_uuid=str(raw.get("client_uuid", ""))[:64],
                status="error",
                error_code=getattr(first, "code", "invalid") or "invalid",
                error_message=f"{field}: {first}",
            )
        return offline.OfflineItem(
            client_uuid=v["client_uuid"],
            code=v["code"],
            amount=v["amount"],
            captured_at=v["captured_at"],
        )

    @extend_schema(request=OfflineSyncBatch, responses={200: OfflineSyncOutput})
    def post(self, request: Request) -> Response:
        data = OfflineSyncInput(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = _own_vendor(request)
        parser = OfflineSyncItem()
        items = [self._parse(parser, raw) for raw in data.validated_data["confirmations"]]
        uploader = offline.Uploader(user=request.user, remote_addr=request.META.get("REMOTE_ADDR"))  # type: ignore[arg-type]
        results = offline_sync.offline_confirmations_sync(vendor=vendor, items=items, uploader=uploader)
        counter = Vendor.objects.filter(pk=vendor.pk).values_list("code_counter", flat=True).get()
        # The counter lets the device move its look-ahead window forward.
        return Response({"results": OfflineSyncItemResult(results, many=True).data, "counter": counter})


class OfflineConfirmationOutput(serializers.ModelSerializer[OfflineConfirmation]):
    market = serializers.IntegerField(source="vendor.market_id")
    code = serializers.SerializerMethodField(help_text="The confirmation code, all but its last two digits hidden.")

    class Meta:
        model = OfflineConfirmation
        fields = [
            "id",
            "client_uuid",
            "vendor",
            "market",
            "amount",
            "code",
            "captured_at",
            "received_at",
            "status",
            "flag_reason",
            "payment",
            "reconcile_by",
        ]

    def get_code(self, row: OfflineConfirmation) -> str:
        return "•" * max(len(row.code) - 2, 0) + row.code[-2:]


class OfflineConfirmationListApi(generics.ListAPIView[OfflineConfirmation]):
    """Confirmations vendors' devices verified offline and uploaded: ``pending``
    (no rail record yet), ``matched`` to a payment, or ``flagged`` with a reason
    (no payment by the deadline, a code confirmed elsewhere, captured after it
    expired) for the market board to look into. Filters: ``status``, ``vendor``,
    ``market``. Vendors see their own; boards and officers their markets'."""

    permission_classes = [IsAuthenticated]
    serializer_class = OfflineConfirmationOutput
    filter_backends = [DjangoFilterBackend]
    filterset_class = selectors.OfflineConfirmationFilter

    def get_queryset(self) -> Any:
        return selectors.offline_confirmation_list(user=self.request.user)
