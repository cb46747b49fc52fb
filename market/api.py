"""Read-only reference data and the markets API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import CodeRelatedField
from market import selectors, services
from market.models import Bank, LegacyProvince, Market, Province, Ward


class ProvinceOutput(serializers.ModelSerializer[Province]):
    class Meta:
        model = Province
        fields = ["code", "name", "short_name", "kind"]


class WardOutput(serializers.ModelSerializer[Ward]):
    class Meta:
        model = Ward
        fields = ["code", "name", "short_name", "kind", "province"]


class BankOutput(serializers.ModelSerializer[Bank]):
    class Meta:
        model = Bank
        fields = ["bin", "code", "short_name", "name"]


class ProvinceListApi(generics.ListAPIView[Province]):
    """All 34 current provinces. Public reference data."""

    permission_classes = [AllowAny]
    serializer_class = ProvinceOutput
    pagination_class = None
    search_fields = ["name", "short_name"]

    def get_queryset(self) -> QuerySet[Province]:
        return selectors.province_list()


class WardListApi(generics.ListAPIView[Ward]):
    """Wards and communes of one province (paginated, searchable by name)."""

    permission_classes = [AllowAny]
    serializer_class = WardOutput
    search_fields = ["name", "short_name"]

    def get_queryset(self) -> QuerySet[Ward]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return Ward.objects.none()
        code = self.kwargs["code"]
        generics.get_object_or_404(Province, pk=code)
        return selectors.ward_list(province_code=code)


class BankListApi(generics.ListAPIView[Bank]):
    """The NAPAS banks a vendor's account may be held at."""

    permission_classes = [AllowAny]
    serializer_class = BankOutput
    pagination_class = None
    search_fields = ["short_name", "name", "code", "bin"]

    def get_queryset(self) -> QuerySet[Bank]:
        return Bank.objects.all()


class MarketOutput(serializers.ModelSerializer[Market]):
    ward = WardOutput()
    province = ProvinceOutput()
    legacy_province = serializers.SerializerMethodField()

    class Meta:
        model = Market
        fields = [
            "id",
            "name",
            "code",
            "ward",
            "province",
            "legacy_province",
            "address",
            "stall_count",
            "status",
            "cashless_since",
            "created_at",
            "updated_at",
        ]

    def get_legacy_province(self, obj: Market) -> dict[str, str] | None:
        if obj.legacy_province is None:
            return None
        return {"code": obj.legacy_province.code, "name": obj.legacy_province.name}


class MarketInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=128)
    code = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9-]*$", max_length=32)
    ward = CodeRelatedField(
        queryset=Ward.objects.all(), error_messages={"does_not_exist": "Unknown ward/commune code {pk_value}."}
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    stall_count = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    status = serializers.ChoiceField(choices=Market.Status.choices, required=False)
    cashless_since = serializers.DateField(required=False, allow_null=True)
    legacy_province = CodeRelatedField(queryset=LegacyProvince.objects.all(), required=False, allow_null=True)

    def validate_code(self, value: str) -> str:
        # Whether the code is taken is the service's to say, after it has checked who
        # asks: answered here, it would tell anyone signed in which market codes exist.
        return value.upper()


# The input is MarketInput, the answer the market as read (MarketOutput: the ward and
# former province as objects), as a GET gives it.
@extend_schema_view(post=extend_schema(request=MarketInput, responses={201: MarketOutput}))
class MarketListCreateApi(generics.ListCreateAPIView[Market]):
    permission_classes = [IsAuthenticated]
    serializer_class = MarketOutput
    filterset_fields = ["province", "ward", "status", "legacy_province"]
    search_fields = ["name", "code", "address"]
    ordering_fields = ["name", "code", "created_at", "stall_count"]

    def get_queryset(self) -> QuerySet[Market]:
        return selectors.market_list(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return MarketInput if self.request.method == "POST" else MarketOutput

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MarketInput(data=request.data)
        data.is_valid(raise_exception=True)
        market = services.market_create(actor=request.user, **data.validated_data)  # type: ignore[arg-type]
        return Response(MarketOutput(market).data, status=201)


@extend_schema_view(
    put=extend_schema(request=MarketInput, responses={200: MarketOutput}),
    patch=extend_schema(request=MarketInput, responses={200: MarketOutput}),
)
class MarketDetailApi(generics.RetrieveUpdateAPIView[Market]):
    permission_classes = [IsAuthenticated]
    serializer_class = MarketOutput

    def get_queryset(self) -> QuerySet[Market]:
        return selectors.market_list(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return MarketInput if self.request.method in ("PUT", "PATCH") else MarketOutput

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        market = self.get_object()
        partial = request.method == "PATCH"
        data = MarketInput(data=request.data, partial=partial, context={"instance": market})
        data.is_valid(raise_exception=True)
        market = services.market_update(actor=request.user, market=market, data=dict(data.validated_data))  # type: ignore[arg-type]
        return Response(MarketOutput(market).data)
