"""VietQR API: decode/encode payloads, a vendor's stall QR (PNG, SVG), the
printable stall card (A6 PDF) and a whole market's cards (A4, four a page).

Who may do what (see docs/vietqr.md):
- decode/encode: any authenticated user;
- stall QR and card: anyone who can see the vendor (the vendor, the market's
  board, volunteers and the province); a suspended vendor has none (409);
- a market's cards: board members, province officers, superusers and the
  market's volunteers; others who can see the market get 403, the rest 404.
"""

from __future__ import annotations

from typing import Any, Final

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chopay import vietqr
from common.api import ApiError
from common.http import SIZE_PARAMETER, AmountField, BinaryApi, image_response, qr_size
from market.models import Bank, Market
from market.selectors import market_list
from payments.cards import card_pdf as cards
from payments.cards import selectors
from payments.cards import services as card_services
from payments.cards.stall_qr import vendor_static_payload
from payments.models import CardBatch
from vendors.models import Vendor
from vendors.selectors import vendor_list

# A market with more active vendors than this gets its cards from a Celery
# task (202 + progress) instead of in the request: 200 cards take about a
# second to render.
INLINE_CARDS_LIMIT: Final = 200
# No VietQR payload comes near this; it bounds the work a request can cause.
MAX_PAYLOAD_LENGTH: Final = 512


# --- PDF responses, the printable vendor ----------------------------------------


def pdf_response(content: bytes, *, filename: str) -> HttpResponse:
    return HttpResponse(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-cache"},
    )


def printable_vendor(request: Request, pk: int) -> Vendor:
    """The vendor ``pk`` if the caller can see it (else 404) and it may show a
    stall QR: pending (the board checks the printed QR before activating the
    vendor; its card is marked "CHỜ DUYỆT") or active, not suspended or
    rejected by the board (409)."""
    vendor: Vendor = generics.get_object_or_404(vendor_list(user=request.user), pk=pk)
    if vendor.status == Vendor.Status.SUSPENDED:
        raise ApiError(
            "vendor_suspended",
            "This vendor is suspended; its QR code is withdrawn.",
            status_code=status.HTTP_409_CONFLICT,
        )
    if vendor.status == Vendor.Status.REJECTED:
        raise ApiError(
            "vendor_rejected",
            "The market board rejected this registration; it has no QR code until it is approved.",
            status_code=status.HTTP_409_CONFLICT,
        )
    return vendor


# --- decode / encode ------------------------------------------------------------


class DecodeInput(serializers.Serializer[Any]):
    # Not trimmed: a payload is exact, and whitespace around it is an error the
    # codec reports, not something to hide.
    payload = serializers.CharField(max_length=MAX_PAYLOAD_LENGTH, trim_whitespace=False)


class DecodeOutput(serializers.Serializer[Any]):
    initiation = serializers.ChoiceField(choices=["static", "dynamic"])
    bank_bin = serializers.CharField()
    bank_short_name = serializers.CharField(allow_null=True)
    account_number = serializers.CharField()
    service_code = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    country = serializers.CharField()
    bill_number = serializers.CharField(allow_null=True)
    mobile_number = serializers.CharField(allow_null=True)
    store_label = serializers.CharField(allow_null=True)
    reference_label = serializers.CharField(allow_null=True)
    terminal_label = serializers.CharField(allow_null=True)
    purpose = serializers.CharField(allow_null=True)
    mcc = serializers.CharField(allow_null=True)
    merchant_name = serializers.CharField(allow_null=True)
    merchant_city = serializers.CharField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())


def _codec_error(exc: vietqr.VietQRError) -> ApiError:
    return ApiError(exc.code, exc.message, field=exc.field)


class VietQRDecodeApi(APIView):
    """Decode a VietQR payload (strict: lengths, CRC, NAPAS GUID). An invalid
    payload is a 400 whose code is the codec's (``crc_mismatch``, ``malformed_tlv``,
    ``not_vietqr``, …); tolerated quirks are listed in ``warnings``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecodeInput, responses={200: DecodeOutput})
    def post(self, request: Request) -> Response:
        data = DecodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            qr = vietqr.decode(data.validated_data["payload"])
        except vietqr.VietQRError as exc:
            raise _codec_error(exc) from None
        bank = Bank.objects.filter(pk=qr.bank_bin).only("short_name").first()
        body = {
            "initiation": qr.initiation,
            "bank_bin": qr.bank_bin,
            "bank_short_name": bank.short_name if bank else None,
            "account_number": qr.account_number,
            "service_code": qr.service_code,
            "amount": qr.amount,
            "currency": qr.currency,
            "country": qr.country,
            "bill_number": qr.bill_number,
            "mobile_number": qr.mobile_number,
            "store_label": qr.store_label,
            "reference_label": qr.reference_label,
            "terminal_label": qr.terminal_label,
            "purpose": qr.purpose,
            "mcc": qr.mcc,
            "merchant_name": qr.merchant_name,
            "merchant_city": qr.merchant_city,
            "warnings": list(qr.warnings),
        }
        return Response(DecodeOutput(body).data)


class EncodeInput(serializers.Serializer[Any]):
    bank_bin = serializers.CharField(max_length=6)
    account_number = serializers.CharField(max_length=32)
    service_code = serializers.CharField(max_length=16, default="QRIBFTTA")
    amount = AmountField(required=False, allow_null=True)
    bill_number = serializers.CharField(max_length=64, required=False, allow_null=True)
    reference_label = serializers.CharField(max_length=64, required=False, allow_null=True)
    purpose = serializers.CharField(max_length=64, required=False, allow_null=True)


class EncodeOutput(serializers.Serializer[Any]):
    payload = serializers.CharField()


class VietQREncodeApi(APIView):
    """Build a VietQR payload: static without an amount, dynamic with one.
    Text is folded to ASCII (diacritics dropped, đ → d); a value over its
    limit is refused (``field_too_long``), never cut. The bank must be a known
    NAPAS member (``unknown_bank``): a mistyped BIN makes a code nobody can pay."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=EncodeInput, responses={200: EncodeOutput})
    def post(self, request: Request) -> Response:
        data = EncodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        qr = vietqr.VietQR(
            bank_bin=values["bank_bin"],
            account_number=values["account_number"],
            service_code=values["service_code"],
            amount=values.get("amount"),
            bill_number=values.get("bill_number"),
            reference_label=values.get("reference_label"),
            purpose=values.get("purpose"),
        )
        try:
            payload = vietqr.encode(qr)
        except vietqr.VietQRError as exc:
            raise _codec_error(exc) from None
        if not Bank.objects.filter(pk=qr.bank_bin).exists():
            raise ApiError("unknown_bank", f"Unknown bank BIN {qr.bank_bin}; see /api/v1/banks/.", field="bank_bin")
        return Response({"payload": payload})


# --- a vendor's stall QR and card ------------------------------------------------


class VendorQRPngApi(BinaryApi):
    """The vendor's static stall QR as a PNG (error correction M, 4-module quiet zone)."""

    @extend_schema(parameters=[SIZE_PARAMETER], responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        vendor = printable_vendor(request, pk)
        return image_response(request, payload=vendor_static_payload(vendor), kind="png", size=qr_size(request))


class VendorQRSvgApi(BinaryApi):
    """The vendor's static stall QR as an SVG (vector, for print shops)."""

    @extend_schema(parameters=[SIZE_PARAMETER], responses={(200, "image/svg+xml"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        vendor = printable_vendor(request, pk)
        return image_response(request, payload=vendor_static_payload(vendor), kind="svg", size=qr_size(request))


class VendorCardPdfApi(BinaryApi):
    """The vendor's printable stall card: one A6 page."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        vendor = printable_vendor(request, pk)
        pdf = cards.render_card_pdf(cards.stall_card(vendor))
        return pdf_response(pdf, filename=f"cho40-{vendor.merchant_code}.pdf")


# --- a whole market's cards ------------------------------------------------------


def printable_market(request: Request, pk: int) -> Market:
    market: Market = generics.get_object_or_404(market_list(user=request.user), pk=pk)
    if not selectors.card_markets_for(user=request.user).filter(pk=market.pk).exists():
        raise PermissionDenied("Only the market's board, volunteers and the province print its cards.")
    return market


class CardBatchOutput(serializers.ModelSerializer[CardBatch]):
    progress = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = CardBatch
        fields = [
            "id", "market", "status", "progress", "done", "total", "download_url", "status_url", "error",
            "created_at", "finished_at",
        ]  # fmt: skip

    def get_progress(self, batch: CardBatch) -> float:
        """Share of the cards rendered, 0.0 … 1.0."""
        if batch.status == CardBatch.Status.DONE:
            return 1.0
        return round(batch.done / batch.total, 3) if batch.total else 0.0

    def get_download_url(self, batch: CardBatch) -> str | None:
        if batch.status != CardBatch.Status.DONE:
            return None
        url = reverse("market-cards-job-download", kwargs={"pk": batch.market_id, "job_id": batch.pk})
        return self.context["request"].build_absolute_uri(url)  # type: ignore[no-any-return]

    def get_status_url(self, batch: CardBatch) -> str:
        url = reverse("market-cards-job", kwargs={"pk": batch.market_id, "job_id": batch.pk})
        return self.context["request"].build_absolute_uri(url)  # type: ignore[no-any-return]


def _batch_file_response(batch: CardBatch, market: Market) -> FileResponse:
    path = card_services.batch_path(batch)
    if not batch.file or not path.is_file():
        raise ApiError(
            "batch_file_missing",
            "This batch's PDF is no longer on disk; request the market's cards again.",
            status_code=status.HTTP_410_GONE,
        )
    response = FileResponse(path.open("rb"), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="cho40-cards-{market.code}.pdf"'
    response["Cache-Control"] = "private, no-cache"
    return response


class MarketCardsPdfApi(BinaryApi):
    """Every active vendor's card, four per A4 page. Rendered in the request up
    to INLINE_CARDS_LIMIT vendors; above that a Celery task renders it and this
    answers 202 with the job (poll its ``status_url``), or the PDF itself once a
    job done after the market's last change exists."""

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            202: OpenApiResponse(CardBatchOutput, description="Rendering in the background."),
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse | FileResponse:
        market = printable_market(request, pk)
        vendors: QuerySet[Vendor] = selectors.card_vendors(market=market)
        if vendors.count() <= INLINE_CARDS_LIMIT:
            pdf = cards.render_cards_pdf(cards.cards_for(vendors), title=f"Chợ 4.0 – {market.name}")
            assert pdf is not None
            return pdf_response(pdf, filename=f"cho40-cards-{market.code}.pdf")
        batch, _created = card_services.card_batch_request(actor=request.user, market=market)  # type: ignore[arg-type]
        batch.refresh_from_db()  # an eager (in-process) task may have finished it already
        if batch.status == CardBatch.Status.DONE and card_services.batch_path(batch).is_file():
            return _batch_file_response(batch, market)
        body = CardBatchOutput(batch, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})


class MarketCardsJobApi(APIView):
    """Progress of a market's card batch."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CardBatchOutput})
    def get(self, request: Request, pk: int, job_id: int) -> Response:
        market = printable_market(request, pk)
        batch = selectors.card_batch_get(market=market, batch_id=job_id)
        if batch is None:
            raise ApiError("not_found", "No such card batch for this market.", status_code=status.HTTP_404_NOT_FOUND)
        return Response(CardBatchOutput(batch, context={"request": request}).data)


class MarketCardsJobDownloadApi(BinaryApi):
    """The PDF of a finished card batch (409 ``not_ready`` before that)."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int, job_id: int) -> FileResponse:
        market = printable_market(request, pk)
        batch = selectors.card_batch_get(market=market, batch_id=job_id)
        if batch is None:
            raise ApiError("not_found", "No such card batch for this market.", status_code=status.HTTP_404_NOT_FOUND)
        if batch.status != CardBatch.Status.DONE:
            raise ApiError(
                "not_ready",
                f"This batch is {batch.status}; try again when it is done.",
                status_code=status.HTTP_409_CONFLICT,
            )
        return _batch_file_response(batch, market)
