"""Vendors API: list/search/filter, onboard, retrieve, edit, change status.
Payout-account changes are in ``vendors.payout_changes_api``, shared-account
claims in ``vendors.claims_api``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import CodeRelatedField
from common.filters import MAX_ID, IdFilter
from market.models import Bank, Market
from market.selectors import market_list
from vendors import edits, selectors, services
from vendors.models import Vendor


class VendorOutput(serializers.ModelSerializer[Vendor]):
    bank_bin = serializers.CharField(source="bank_id")
    onboarded_by = serializers.SerializerMethodField()

    class Meta:
        model = Vendor
        fields = [
            "id",
            "market",
            "full_name",
            "phone",
            "stall_label",
            "goods_category",
            "bank_bin",
            "account_number",
            "account_name",
            "merchant_code",
            "status",
            "onboarded_by",
            "onboarded_at",
        ]

    def get_onboarded_by(self, obj: Vendor) -> str | None:
        return obj.onboarded_by.get_username() if obj.onboarded_by else None


class _BankField(CodeRelatedField):
    default_error_messages = {
        "does_not_exist": "Unknown bank BIN {pk_value}; see /api/v1/banks/.",
        "incorrect_type": "bank_bin must be a 6-digit string.",
    }

    def to_internal_value(self, data: Any) -> Bank:
        try:
            return super().to_internal_value(str(data))  # type: ignore[no-any-return]
        except serializers.ValidationError as exc:
            # Plain strings: DRF would keep the inner ErrorDetail's own code.
            messages = [str(message) for message in exc.detail]  # type: ignore[union-attr]
            raise serializers.ValidationError(messages, code="unknown_bank") from None


class VendorCreateInput(serializers.Serializer[Any]):
    # Same message as a market outside the caller's scope (see the view), so
    # that the answer does not tell whether a market id exists.
    market = serializers.PrimaryKeyRelatedField(
        queryset=Market.objects.all(), error_messages={"does_not_exist": "Unknown market {pk_value}."}
    )
    full_name = serializers.CharField(max_length=128)
    phone = serializers.CharField(max_length=32)
    stall_label = serializers.CharField(max_length=32, required=False, allow_blank=True)
    goods_category = serializers.ChoiceField(choices=Vendor.GoodsCategory.choices, required=False)
    bank_bin = _BankField(queryset=Bank.objects.all(), source="bank")
    account_number = serializers.CharField(max_length=32)
    account_name = serializers.CharField(max_length=64)
    # A confirmed or approved shared-account claim, when a stall of another
    # market holds the account (vendors/claims_api.py).
    account_claim = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    client_ref = serializers.UUIDField(
        required=False,
        help_text="An id the client generates for this submission: sent again (after a lost connection), "
        "it answers the vendor already registered instead of a duplicate error.",
    )


_PAYOUT_FIELD_HELP = (
    "Read-only here: a different value is refused with `payout_change_required`; "
    "use POST /api/v1/vendors/{id}/payout-changes/."
)


class VendorUpdateInput(serializers.Serializer[Any]):
    full_name = serializers.CharField(max_length=128, required=False)
    phone = serializers.CharField(max_length=32, required=False)
    stall_label = serializers.CharField(max_length=32, required=False, allow_blank=True)
    goods_category = serializers.ChoiceField(choices=Vendor.GoodsCategory.choices, required=False)
    # Accepted only unchanged (a client sending the whole record back): the
    # payout account changes through POST vendors/{id}/payout-changes/.
    bank_bin = _BankField(queryset=Bank.objects.all(), source="bank", required=False, help_text=_PAYOUT_FIELD_HELP)
    account_number = serializers.CharField(max_length=32, required=False, help_text=_PAYOUT_FIELD_HELP)
    account_name = serializers.CharField(max_length=64, required=False, help_text=_PAYOUT_FIELD_HELP)


class VendorStatusInput(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Vendor.Status.choices)
    # Required to reject a registration (the volunteer reads it to correct it).
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VendorFilter(django_filters.FilterSet):
    # Plain numbers, not model choices: a choice filter answers 400 for an id
    # that does not exist and 200 for one outside the caller's scope, telling
    # which markets and users exist.
    market = IdFilter(field_name="market_id")
    onboarded_by = IdFilter(field_name="onboarded_by_id")
    bank_bin = django_filters.CharFilter(field_name="bank_id")
    province = django_filters.CharFilter(field_name="market__province_id")
    onboarded_after = django_filters.IsoDateTimeFilter(field_name="onboarded_at", lookup_expr="gte")
    onboarded_before = django_filters.IsoDateTimeFilter(field_name="onboarded_at", lookup_expr="lt")

    class Meta:
        model = Vendor
        fields = ["market", "status", "goods_category", "bank_bin", "province", "onboarded_by"]


class VendorListCreateApi(generics.ListCreateAPIView[Vendor]):
    """List the vendors in your scope, or onboard a new one (volunteers, boards, province)."""

    permission_classes = [IsAuthenticated]
    serializer_class = VendorOutput
    filterset_class = VendorFilter
    search_fields = ["full_name", "phone", "stall_label", "merchant_code", "account_number"]
    ordering_fields = ["full_name", "stall_label", "onboarded_at", "merchant_code"]

    def get_queryset(self) -> QuerySet[Vendor]:
        return selectors.vendor_list(user=self.request.user)

    @extend_schema(request=VendorCreateInput, responses={201: VendorOutput})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VendorCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        market = data.validated_data["market"]
        # A market outside one's scope does not exist as far as the caller knows.
        if not market_list(user=request.user).filter(pk=market.pk).exists():
            raise serializers.ValidationError(
                {"market": [serializers.ErrorDetail(f"Unknown market {market.pk}.", code="does_not_exist")]}
            )
        vendor = services.vendor_create(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(VendorOutput(vendor).data, status=201)


class VendorDetailApi(generics.RetrieveUpdateAPIView[Vendor]):
    permission_classes = [IsAuthenticated]
    serializer_class = VendorOutput

    def get_queryset(self) -> QuerySet[Vendor]:
        return selectors.vendor_list(user=self.request.user)

    @extend_schema(request=VendorUpdateInput, responses={200: VendorOutput})
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=True)

    @extend_schema(request=VendorUpdateInput, responses={200: VendorOutput})
    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, partial=False)

    def _update(self, request: Request, *, partial: bool) -> Response:
        vendor = self.get_object()
        data = VendorUpdateInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        vendor = edits.vendor_update(actor=request.user, vendor=vendor, data=dict(data.validated_data))  # type: ignore[arg-type]
        return Response(VendorOutput(vendor).data)


class VendorStatusApi(APIView):
    """Approve (``active``) or reject (``rejected``, with a ``reason``) a
    pending registration, suspend or re-activate a vendor, or send a rejected
    one back for review (``pending``). Maker-checker: whoever submitted a
    registration may not approve or reject it (403 ``own_submission``). Every
    change is recorded as a decision (``vendors.reviews``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=VendorStatusInput, responses={200: VendorOutput})
    def post(self, request: Request, pk: int) -> Response:
        vendor = generics.get_object_or_404(selectors.vendor_list(user=request.user), pk=pk)
        data = VendorStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        vendor = edits.vendor_change_status(
            actor=request.user,  # type: ignore[arg-type]
            vendor=vendor,
            status=data.validated_data["status"],
            reason=data.validated_data["reason"],
        )
        return Response(VendorOutput(vendor).data)


class VendorMeApi(APIView):
    """The caller's own vendor record (for a vendor's app)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: VendorOutput})
    def get(self, request: Request) -> Response:
        vendor = selectors.vendor_for_user(user=request.user)
        if vendor is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("You are not registered as a vendor.")
        return Response(VendorOutput(vendor).data)
