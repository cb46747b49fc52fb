"""Payments read side: list, retrieve with the audit trail, CSV export, daily
summary, the unmatched queue, and the board's actions on a recorded payment
(assign, refund, dispute). Scope rules live in ``payments.ledger.selectors``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import filters, generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.ledger import selectors, services
from payments.models import Payment, PaymentEvent

MAX_SUMMARY_DAYS = 366


# --- Output -----------------------------------------------------------------


class PaymentOutput(serializers.ModelSerializer[Payment]):
    class Meta:
        model = Payment
        fields = [
            "id", "vendor", "market", "amount", "channel", "source", "status", "occurred_at",
            "payment_request", "provider_reference",
            # Extras beyond the list, all read-only facts of the row.
            "attribution", "amount_check", "payer_masked", "local_date", "recorded_at", "vendor_confirmed_at",
        ]  # fmt: skip


class UnmatchedOutput(PaymentOutput):
    """A queued credit with what a board member needs to decide whose it is."""

    class Meta(PaymentOutput.Meta):
        fields = [*PaymentOutput.Meta.fields, "receiving_account", "content"]


class EventOutput(serializers.ModelSerializer[PaymentEvent]):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = PaymentEvent
        fields = ["id", "kind", "actor", "data", "created_at"]

    def get_actor(self, obj: PaymentEvent) -> str | None:
        return obj.actor.get_username() if obj.actor else None


class PaymentDetailOutput(PaymentOutput):
    events = EventOutput(many=True, read_only=True)

    class Meta(PaymentOutput.Meta):
        fields = [*PaymentOutput.Meta.fields, "receiving_account", "content", "events"]


class _ChannelTotals(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    amount = serializers.IntegerField()


class _ByChannel(serializers.Serializer[Any]):
    static_qr = _ChannelTotals()
    dynamic_qr = _ChannelTotals()
    phone_transfer = _ChannelTotals()
    code_entry = _ChannelTotals()


class _Totals(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    amount = serializers.IntegerField()
    average_ticket = serializers.IntegerField()
    by_channel = _ByChannel()


class _Day(serializers.Serializer[Any]):
    date = serializers.DateField()
    count = serializers.IntegerField()
    amount = serializers.IntegerField()
    average_ticket = serializers.IntegerField()
    by_channel = _ByChannel()


class SummaryOutput(serializers.Serializer[Any]):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    totals = _Totals()
    days = _Day(many=True)


# --- Input ------------------------------------------------------------------


class SummaryInput(serializers.Serializer[Any]):
    date = serializers.DateField(required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    vendor = serializers.IntegerField(required=False, min_value=1)
    market = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "date" in attrs:
            if "date_from" in attrs or "date_to" in attrs:
                raise serializers.ValidationError("Give either date or date_from/date_to.", code="invalid_range")
            attrs["date_from"] = attrs["date_to"] = attrs.pop("date")
        # Default: today in Vietnam; a lone date_from runs to today, a lone date_to is one day.
        attrs.setdefault("date_to", timezone.localdate())
        attrs.setdefault("date_from", attrs["date_to"])
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError("date_from is after date_to.", code="invalid_range")
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_SUMMARY_DAYS:
            raise serializers.ValidationError(
                f"A summary covers at most {MAX_SUMMARY_DAYS} days.", code="range_too_long"
            )
        return attrs


class AssignInput(serializers.Serializer[Any]):
    vendor = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_MAX_LENGTH)


class NoteInput(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.NOTE_MAX_LENGTH)


# --- Views --------------------------------------------------------------------


class _PaymentQueryApi(generics.GenericAPIView[Payment]):
    """The filters, search and ordering shared by the list, the queue and the CSV."""

    permission_classes = [IsAuthenticated]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_class = selectors.PaymentFilter
    search_fields = ["provider_reference", "provider_txn_id", "content", "payer_masked"]
    ordering_fields = ["occurred_at", "amount", "id", "recorded_at"]


class PaymentListApi(_PaymentQueryApi, generics.ListAPIView[Payment]):
    """Payments in your scope, newest first. Vendors see their own, boards their
    market's, officers their province's; volunteers see none."""

    serializer_class = PaymentOutput

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.payment_list(user=self.request.user)


class PaymentDetailApi(APIView):
    """One payment with its audit trail (status changes, assignment, confirmations)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: PaymentDetailOutput})
    def get(self, request: Request, pk: int) -> Response:
        payment = selectors.payment_get(user=request.user, pk=pk)
        if payment is None:
            raise NotFound()
        return Response(PaymentDetailOutput(payment).data)


class UnmatchedListApi(_PaymentQueryApi, generics.ListAPIView[Payment]):
    """Credits that no vendor could be matched to, oldest first, for the board to assign."""

    serializer_class = UnmatchedOutput
    ordering = ["occurred_at", "id"]

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.unmatched_list(user=self.request.user)


class _AlwaysJson(DefaultContentNegotiation):
    """The CSV body is streamed by hand; errors before it are JSON whatever the
    client's Accept header says (``text/csv`` must not turn a 400 into a 406).
    A body is parsed by its own Content-Type, as everywhere (DRF's default): the
    first parser for any body made a form POST without a CSRF token a 400
    "JSON parse error" instead of the 403 (found by the abuse drill's CSRF sweep)."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


CSV_COLUMNS = [
    "id", "occurred_at", "local_date", "vendor", "vendor_name", "merchant_code", "stall", "market",
    "market_code", "market_name", "amount", "channel", "source", "status", "attribution", "amount_check",
    "payment_request", "request_reference", "provider_reference", "payer_masked", "content", "recorded_at",
]  # fmt: skip
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas: the transfer content and the payer name
    come from strangers, and Excel would run ``=HYPERLINK(...)``."""
    if value.__class__ is str and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


# Read as plain tuples: building three model instances per row would triple the
# cost of a province-wide export. Order matches CSV_COLUMNS.
_CSV_VALUES = [
    "id", "occurred_at", "local_date", "vendor_id", "vendor__full_name", "vendor__merchant_code",
    "vendor__stall_label", "market_id", "market__code", "market__name", "amount", "channel", "source", "status",
    "attribution", "amount_check", "payment_request_id", "payment_request__reference", "provider_reference",
    "payer_masked", "content", "recorded_at",
]  # fmt: skip
_TIME_COLUMNS = (CSV_COLUMNS.index("occurred_at"), CSV_COLUMNS.index("recorded_at"))
_ROWS_PER_CHUNK = 500


def csv_lines(payments: QuerySet[Payment]) -> Iterator[bytes]:
    """The file in chunks of a few hundred rows, already encoded: one yield per
    row would cost more in the response machinery than the rows themselves."""
    tz = timezone.get_current_timezone()  # once, not per value
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The BOM makes Excel open the file as UTF-8, so "Nguyễn Thị Hoà" stays readable.
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for count, values in enumerate(payments.values_list(*_CSV_VALUES).iterator(chunk_size=2000), start=1):
        row = list(values)
        for index in _TIME_COLUMNS:
            # Excel reads "YYYY-MM-DD HH:MM:SS"; the docs say it is Vietnam time.
            row[index] = row[index].astimezone(tz).replace(tzinfo=None).isoformat(" ", "seconds")
        writer.writerow([_cell(value) for value in row])
        if count % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _export_filename(params: Any) -> str:
    field = forms.DateField(required=False)
    start, end = field.clean(params.get("date_from")), field.clean(params.get("date_to"))
    if start and end:
        span = f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"
    elif start:
        span = f"from_{start:%Y-%m-%d}"
    elif end:
        span = f"until_{end:%Y-%m-%d}"
    else:
        span = f"all_{timezone.localdate():%Y-%m-%d}"
    return f"payments_{span}.csv"


class PaymentExportCsvApi(_PaymentQueryApi):
    """The payments list as a streamed CSV (same filters, same scope)."""

    content_negotiation_class = _AlwaysJson
    pagination_class = None

    def get_queryset(self) -> QuerySet[Payment]:
        return selectors.payment_list(user=self.request.user)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8 with BOM")})
    def get(self, request: Request) -> StreamingHttpResponse:
        payments = self.filter_queryset(self.get_queryset())  # a bad filter raises 400 here, before streaming
        response = StreamingHttpResponse(csv_lines(payments), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_export_filename(request.query_params)}"'
        return response


class PaymentSummaryApi(APIView):
    """Per Vietnam calendar day: count, amount, average ticket and channel split
    of succeeded payments in your scope (a vendor: their own; a board: their market)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter("vendor", OpenApiTypes.INT),
            OpenApiParameter("market", OpenApiTypes.INT),
        ],
        responses={200: SummaryOutput},
    )
    def get(self, request: Request) -> Response:
        data = SummaryInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        summary = selectors.payment_daily_summary(
            user=request.user,
            date_from=params["date_from"],
            date_to=params["date_to"],
            vendor_id=params.get("vendor"),
            market_id=params.get("market"),
        )
        return Response(SummaryOutput(summary).data)


def _managed_or_404(request: Request, pk: int) -> Payment:
    # Visible but not managed (a vendor's own payment) is a 403 from the service;
    # invisible is a 404 here.
    payment = selectors.payment_list(user=request.user).filter(pk=pk).first()
    if payment is None:
        raise NotFound()
    return payment


class _PaymentVendorApi(APIView):
    """POST ``{"vendor", "note"?}``: give the payment to a vendor through ``service``."""

    permission_classes = [IsAuthenticated]
    service: Any

    @extend_schema(request=AssignInput, responses={200: PaymentDetailOutput})
    def post(self, request: Request, pk: int) -> Response:
        payment = _managed_or_404(request, pk)
        data = AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = services.payment_assignable_vendor(
            actor=request.user,  # type: ignore[arg-type]
            payment=payment,
            vendor_id=data.validated_data["vendor"],
        )
        self.service(actor=request.user, payment=payment, vendor=vendor, note=data.validated_data.get("note", ""))
        return Response(PaymentDetailOutput(selectors.payment_get(user=request.user, pk=pk)).data)


class PaymentAssignApi(_PaymentVendorApi):
    """Assign an unmatched credit to a vendor of its market (audited)."""

    service = staticmethod(services.payment_assign)


class PaymentReassignApi(_PaymentVendorApi):
    """Move a payment that the board or the receiving account attributed to
    another vendor of its market (audited; 409 ``attribution_fixed`` when the
    payer chose the vendor by QR, sale reference or code)."""

    service = staticmethod(services.payment_reassign)


class _PaymentMarkApi(APIView):
    permission_classes = [IsAuthenticated]
    service: Any

    @extend_schema(request=NoteInput, responses={200: PaymentDetailOutput})
    def post(self, request: Request, pk: int) -> Response:
        payment = _managed_or_404(request, pk)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        self.service(actor=request.user, payment=payment, note=data.validated_data.get("note", ""))
        return Response(PaymentDetailOutput(selectors.payment_get(user=request.user, pk=pk)).data)


class PaymentRefundApi(_PaymentMarkApi):
    """Record that a payment was refunded to the payer (succeeded or disputed → refunded)."""

    service = staticmethod(services.payment_refund)


class PaymentDisputeApi(_PaymentMarkApi):
    """Record that a succeeded payment is contested (succeeded → disputed)."""

    service = staticmethod(services.payment_dispute)


class PaymentResolveApi(_PaymentMarkApi):
    """Close a dispute in the vendor's favour (disputed → succeeded); a dispute
    settled for the payer is recorded with ``refund``."""

    service = staticmethod(services.payment_resolve_dispute)
