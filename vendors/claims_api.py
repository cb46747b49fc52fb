"""Shared-account claims API (see ``vendors.account_claims``):

- ``GET  vendors/account-claims/``: the claims you asked for, may use, or decide;
- ``POST vendors/account-claims/`` ``{market, bank_bin, account_number, method}``: ask
  (``sms_code`` sends the code to the trader's phone on record; ``board`` waits for the
  holding board);
- ``GET  vendors/account-claims/{id}/``;
- ``POST vendors/account-claims/{id}/confirm/`` ``{code}``: the code the trader received;
- ``POST vendors/account-claims/{id}/approve/`` and ``reject/`` ``{reason?}``: the holding board.

Then ``POST vendors/`` with ``account_claim`` registers the stall.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from market.models import Bank, Market
from market.selectors import market_list
from vendors import account_claims as claims
from vendors.api import _BankField
from vendors.models import SharedAccountClaim
from vendors.selectors import vendor_list


class AccountClaimOutput(serializers.ModelSerializer[SharedAccountClaim]):
    bank_bin = serializers.CharField(source="bank_id")
    market_name = serializers.CharField(source="market.name")
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    holder = serializers.SerializerMethodField()

    class Meta:
        model = SharedAccountClaim
        fields = [
            "id", "market", "market_name", "bank_bin", "account_number", "method", "status", "attempts",
            "expires_at", "requested_by", "requested_at", "decided_by", "decided_at", "reason", "vendor", "holder",
        ]  # fmt: skip

    def get_requested_by(self, obj: SharedAccountClaim) -> str | None:
        return obj.requested_by.get_username() if obj.requested_by else None

    def get_decided_by(self, obj: SharedAccountClaim) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by else None

    def get_holder(self, obj: SharedAccountClaim) -> int | None:
        """The existing registration, only for someone who may see it (the
        holding board deciding); the requester never learns who holds the account."""
        user = self.context["request"].user
        return obj.holder_id if vendor_list(user=user).filter(pk=obj.holder_id).exists() else None


class AccountClaimInput(serializers.Serializer[Any]):
    market = serializers.PrimaryKeyRelatedField(
        queryset=Market.objects.all(), error_messages={"does_not_exist": "Unknown market {pk_value}."}
    )
    bank_bin = _BankField(queryset=Bank.objects.all(), source="bank")
    account_number = serializers.CharField(max_length=32)
    method = serializers.ChoiceField(choices=SharedAccountClaim.Method.choices)


class ClaimConfirmInput(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=16)


class ClaimDecideInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


def _claim_or_404(request: Request, pk: int) -> SharedAccountClaim:
    return generics.get_object_or_404(claims.account_claim_list(user=request.user), pk=pk)


class ClaimListCreateApi(generics.ListAPIView[SharedAccountClaim]):
    """Claims you asked for, may use to register a stall, or decide as the holding board."""

    permission_classes = [IsAuthenticated]
    serializer_class = AccountClaimOutput
    filterset_fields = ["status", "method"]

    def get_queryset(self) -> Any:
        return claims.account_claim_list(user=self.request.user)

    @extend_schema(request=AccountClaimInput, responses={201: AccountClaimOutput})
    def post(self, request: Request) -> Response:
        data = AccountClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        market = data.validated_data["market"]
        if not market_list(user=request.user).filter(pk=market.pk).exists():
            raise serializers.ValidationError(
                {"market": [serializers.ErrorDetail(f"Unknown market {market.pk}.", code="does_not_exist")]}
            )
        claim = claims.account_claim_request(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(AccountClaimOutput(claim, context={"request": request}).data, status=201)


class ClaimDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AccountClaimOutput})
    def get(self, request: Request, pk: int) -> Response:
        return Response(AccountClaimOutput(_claim_or_404(request, pk), context={"request": request}).data)


class ClaimConfirmApi(APIView):
    """Type the code the trader received by SMS."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ClaimConfirmInput, responses={200: AccountClaimOutput})
    def post(self, request: Request, pk: int) -> Response:
        claim = _claim_or_404(request, pk)
        data = ClaimConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claims.account_claim_confirm(actor=request.user, claim=claim, code=data.validated_data["code"])  # type: ignore[arg-type]
        return Response(AccountClaimOutput(claim, context={"request": request}).data)


class _ClaimDecideApi(APIView):
    permission_classes = [IsAuthenticated]
    approve: bool

    @extend_schema(request=ClaimDecideInput, responses={200: AccountClaimOutput})
    def post(self, request: Request, pk: int) -> Response:
        claim = _claim_or_404(request, pk)
        data = ClaimDecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claims.account_claim_decide(
            actor=request.user,  # type: ignore[arg-type]
            claim=claim,
            approve=self.approve,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(AccountClaimOutput(claim, context={"request": request}).data)


class ClaimApproveApi(_ClaimDecideApi):
    """The holding board confirms that the new stall is the same trader's."""

    approve = True


class ClaimRejectApi(_ClaimDecideApi):
    """The holding board refuses the claim (give a reason)."""

    approve = False
