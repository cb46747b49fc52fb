"""Payout-account changes API (see ``vendors.payout_changes``):

- ``GET  vendors/{id}/payout-changes/``: the vendor's changes, newest first;
- ``POST vendors/{id}/payout-changes/`` ``{bank_bin, account_number, account_name, reason}``: request one
  (applied at once when the market's board or the province asks);
- ``GET  vendors/{id}/payout-changes/{change_id}/``;
- ``POST vendors/{id}/payout-changes/{change_id}/approve/`` and ``reject/``: the board decides;
- ``POST vendors/{id}/payout-changes/{change_id}/cancel/``: whoever asked withdraws it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ApiError
from market.models import Bank
from vendors import payout_changes, selectors
from vendors.api import _BankField
from vendors.models import PayoutAccountChange, Vendor


class PayoutChangeOutput(serializers.ModelSerializer[PayoutAccountChange]):
    old_bank_bin = serializers.CharField(source="old_bank_id")
    new_bank_bin = serializers.CharField(source="new_bank_id")
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = PayoutAccountChange
        fields = [
            "id",
            "vendor",
            "outcome",
            "old_bank_bin",
            "old_account_number",
            "old_account_name",
            "new_bank_bin",
            "new_account_number",
            "new_account_name",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]

    def get_requested_by(self, obj: PayoutAccountChange) -> str | None:
        return obj.requested_by.get_username() if obj.requested_by else None

    def get_decided_by(self, obj: PayoutAccountChange) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by else None


class PayoutChangeRequestInput(serializers.Serializer[Any]):
    bank_bin = _BankField(queryset=Bank.objects.all(), source="bank")
    account_number = serializers.CharField(max_length=32)
    account_name = serializers.CharField(max_length=64)
    reason = serializers.CharField(max_length=500)


class PayoutChangeDecisionInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PayoutChangeRejectInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


@contextmanager
def _payout_errors() -> Iterator[None]:
    """The services' payout-change errors as the API's: 403 and 409 with their codes."""
    try:
        yield
    except payout_changes.PayoutChangeDenied as exc:
        raise ApiError(exc.code, exc.message, status_code=status.HTTP_403_FORBIDDEN) from exc
    except payout_changes.PayoutChangeConflict as exc:
        raise ApiError(exc.code, exc.message, status_code=status.HTTP_409_CONFLICT) from exc


def _vendor_in_scope(request: Request, pk: int) -> Vendor:
    return generics.get_object_or_404(selectors.vendor_list(user=request.user), pk=pk)


def _change_in_scope(request: Request, pk: int, change_id: int) -> PayoutAccountChange:
    return generics.get_object_or_404(selectors.payout_change_list(user=request.user, vendor_id=pk), pk=change_id)


class PayoutChangeListCreateApi(generics.ListAPIView[PayoutAccountChange]):
    """A vendor's payout-account changes (newest first), or request one.

    A request by the market's board or the province is applied at once; any
    other waits for their decision while QRs keep paying the old account."""

    permission_classes = [IsAuthenticated]
    serializer_class = PayoutChangeOutput
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[PayoutAccountChange]:
        vendor = _vendor_in_scope(self.request, self.kwargs["pk"])
        return selectors.payout_change_list(user=self.request.user, vendor_id=vendor.pk)

    @extend_schema(
        request=PayoutChangeRequestInput,
        responses={
            201: OpenApiResponse(PayoutChangeOutput, description="Pending, or approved when the board asked."),
            409: OpenApiResponse(description="`payout_change_pending`: another change waits for a decision."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        vendor = _vendor_in_scope(request, pk)
        data = PayoutChangeRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        with _payout_errors():
            change = payout_changes.payout_change_request(actor=request.user, vendor=vendor, **data.validated_data)  # type: ignore[arg-type]
        return Response(PayoutChangeOutput(change).data, status=201)


class PayoutChangeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: PayoutChangeOutput})
    def get(self, request: Request, pk: int, change_id: int) -> Response:
        return Response(PayoutChangeOutput(_change_in_scope(request, pk, change_id)).data)


_DECISION_ERRORS = {
    403: OpenApiResponse(description="`payout_change_board_only`, `payout_change_own_request` …"),
    409: OpenApiResponse(description="`payout_change_decided`: no longer pending."),
}


class PayoutChangeApproveApi(APIView):
    """The board approves a pending change (not whoever requested it): the vendor now pays into the new account."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PayoutChangeDecisionInput, responses={200: PayoutChangeOutput, **_DECISION_ERRORS})
    def post(self, request: Request, pk: int, change_id: int) -> Response:
        change = _change_in_scope(request, pk, change_id)
        data = PayoutChangeDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        with _payout_errors():
            change = payout_changes.payout_change_approve(actor=request.user, change=change, **data.validated_data)  # type: ignore[arg-type]
        return Response(PayoutChangeOutput(change).data)


class PayoutChangeRejectApi(APIView):
    """The board rejects a pending change, with a reason; the old account stays."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PayoutChangeRejectInput, responses={200: PayoutChangeOutput, **_DECISION_ERRORS})
    def post(self, request: Request, pk: int, change_id: int) -> Response:
        change = _change_in_scope(request, pk, change_id)
        data = PayoutChangeRejectInput(data=request.data)
        data.is_valid(raise_exception=True)
        with _payout_errors():
            change = payout_changes.payout_change_reject(actor=request.user, change=change, **data.validated_data)  # type: ignore[arg-type]
        return Response(PayoutChangeOutput(change).data)


class PayoutChangeCancelApi(APIView):
    """Whoever requested a pending change withdraws it."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PayoutChangeDecisionInput,
        responses={
            200: PayoutChangeOutput,
            403: OpenApiResponse(description="`payout_change_requester_only`"),
            409: _DECISION_ERRORS[409],
        },
    )
    def post(self, request: Request, pk: int, change_id: int) -> Response:
        change = _change_in_scope(request, pk, change_id)
        data = PayoutChangeDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        with _payout_errors():
            change = payout_changes.payout_change_cancel(actor=request.user, change=change, **data.validated_data)  # type: ignore[arg-type]
        return Response(PayoutChangeOutput(change).data)
