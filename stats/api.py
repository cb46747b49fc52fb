"""The statistics API: one thin view per scope, answering JSON, CSV or XLSX
(``?format=``), and the target of a province or a market (PUT).

Who sees what is ``stats.scopes``; the figures are ``stats.selectors``; a
scope outside one's rights answers 404 as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from stats import exports, scopes, selectors, services
from stats.periods import GRANULARITIES, PRESETS, Period, resolve_period
from stats.scopes import Scope
from stats.selectors_volunteers import volunteer_stats
from stats.serializers import (
    FORMATS,
    PeriodInput,
    StatsOutput,
    TargetInput,
    TargetSetOutput,
    VolunteerInput,
    VolunteerStatsOutput,
)

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "preset", str, enum=list(PRESETS), description="today, this ISO week, this month, or the last 7/30/90 days"
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First local day (inclusive); not with preset"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last local day (inclusive); not with preset"),
    OpenApiParameter("granularity", str, enum=list(GRANULARITIES), description="Series buckets"),
    OpenApiParameter("format", str, enum=list(FORMATS), description="json (default), csv or xlsx"),
]


def _file_responses(json_output: Any) -> dict[Any, Any]:
    return {
        (200, "application/json"): json_output,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8 with BOM"),
        (200, exports.XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
    }


def period_from(params: dict[str, Any]) -> Period:
    return resolve_period(
        preset=params.get("preset"),
        start=params.get("from"),
        end=params.get("to"),
        granularity=params.get("granularity"),
    )


def export_filename(scope: Scope, period: Period, extension: str) -> str:
    """``thong-ke_province-19_2026-11-07_2026-12-06.xlsx``: ASCII, for any browser."""
    name = f"thong-ke_{scope.kind}-{scope.key}" if scope.key else f"thong-ke_{scope.kind}"
    return f"{name}_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}.{extension}"


def render(
    data: dict[str, Any], tables_of: Callable[[dict[str, Any]], list[exports.Table]], kind: str, scope: Scope,
    period: Period,
) -> Any:  # fmt: skip
    """The answer as JSON, or as a CSV or XLSX file of the tables ``tables_of`` makes of it."""
    if kind == "json":
        return Response(data)
    tables = tables_of(data)
    body, content_type = (
        (exports.to_csv(tables), exports.CSV_TYPE) if kind == "csv" else (exports.to_xlsx(tables), exports.XLSX_TYPE)
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(scope, period, kind)}"'
    return response


class _StatsApi(APIView):
    """GET: the statistics of the scope of ``kind`` named by the URL's ``key`` argument."""

    permission_classes = [IsAuthenticated]
    kind = "nation"
    key = ""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # ``format`` picks the body here (csv, xlsx), not a DRF renderer; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    def scope(self, request: Request, **kwargs: Any) -> Scope:
        return scopes.scope_for(request.user, self.kind, kwargs.get(self.key))

    def get(self, request: Request, **kwargs: Any) -> Any:
        scope = self.scope(request, **kwargs)
        query = PeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = period_from(query.validated_data)
        data = selectors.scope_stats(scope, period)
        return render(data, exports.stats_tables, query.validated_data["format"], scope, period)


_STATS_SCHEMA = extend_schema(parameters=PERIOD_PARAMETERS, responses=_file_responses(StatsOutput))


class StatsHomeApi(_StatsApi):
    """Your own widest scope: the nation for a superuser, your province for a
    province officer (the first by code if you follow several), your market
    for a board member (the first by id); 404 for everyone else."""

    def scope(self, request: Request, **kwargs: Any) -> Scope:
        return scopes.home_scope(request.user)

    @_STATS_SCHEMA
    def get(self, request: Request, **kwargs: Any) -> Any:
        return super().get(request, **kwargs)


class ProvinceStatsApi(_StatsApi):
    """A province with its ranked markets and its markets grouped by former
    province (officers of the province, superusers)."""

    kind = "province"
    key = "code"

    @_STATS_SCHEMA
    def get(self, request: Request, **kwargs: Any) -> Any:
        return super().get(request, **kwargs)


class WardStatsApi(_StatsApi):
    """A ward or commune with its ranked markets (officers of its province, superusers)."""

    kind = "ward"
    key = "code"

    @_STATS_SCHEMA
    def get(self, request: Request, **kwargs: Any) -> Any:
        return super().get(request, **kwargs)


class MarketStatsApi(_StatsApi):
    """A market with its follow-up list (its board, its province's officers, superusers)."""

    kind = "market"
    key = "market_id"

    @_STATS_SCHEMA
    def get(self, request: Request, **kwargs: Any) -> Any:
        return super().get(request, **kwargs)


class VolunteerStatsApi(APIView):
    """Per volunteer: traders onboarded in the period and how many reached 2
    active days within 30 days. Superusers, officers and board members see
    every volunteer of their scope (``province`` or ``market`` narrow it);
    a volunteer sees their own row only."""

    permission_classes = [IsAuthenticated]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("province", str, description="A province code (officers, superusers)"),
            OpenApiParameter("market", int, description="A market id"),
        ],
        responses=_file_responses(VolunteerStatsOutput),
    )
    def get(self, request: Request) -> Any:
        query = VolunteerInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        scope, only_user = scopes.volunteer_scope(
            request.user, province=params.get("province"), market=params.get("market")
        )
        period = period_from(params)
        data = volunteer_stats(scope, period, only_user=only_user)
        return render(data, exports.volunteer_tables, params["format"], scope, period)


class _TargetApi(APIView):
    """PUT: set the target of the scope of ``kind`` named by the URL's ``key`` argument."""

    permission_classes = [IsAuthenticated]
    kind = "province"
    key = "code"

    def scope(self, request: Request, **kwargs: Any) -> Scope:
        return scopes.scope_for(request.user, self.kind, kwargs.get(self.key))

    def put(self, request: Request, **kwargs: Any) -> Response:
        scope = self.scope(request, **kwargs)
        body = TargetInput(data=request.data)
        body.is_valid(raise_exception=True)
        services.target_set(actor=request.user, scope=scope, **body.validated_data)  # type: ignore[arg-type]
        return Response({"scope": scope.as_dict(), "target": selectors.current_target(scope)})


class ProvinceTargetApi(_TargetApi):
    """Set the province's target: coverage and active shares (0–1) and a
    deadline (province officers, superusers)."""

    kind = "province"
    key = "code"

    @extend_schema(request=TargetInput, responses={200: TargetSetOutput})
    def put(self, request: Request, **kwargs: Any) -> Response:
        return super().put(request, **kwargs)


class MarketTargetApi(_TargetApi):
    """Set the market's target (its board, its province's officers, superusers)."""

    kind = "market"
    key = "market_id"

    @extend_schema(request=TargetInput, responses={200: TargetSetOutput})
    def put(self, request: Request, **kwargs: Any) -> Response:
        return super().put(request, **kwargs)
