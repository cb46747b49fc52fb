"""The shapes of the statistics API: query and body inputs, and the response
serializers that document the selectors' dicts in the OpenAPI schema (the
views return the dicts as they are; tests check the two agree)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from stats.periods import GRANULARITIES, PRESETS

FORMATS = ("json", "csv", "xlsx")


class PeriodInput(serializers.Serializer[Any]):
    """``preset`` or ``from``/``to`` (local dates, inclusive), ``granularity``, ``format``."""

    preset = serializers.ChoiceField(choices=PRESETS, required=False)
    to = serializers.DateField(required=False)
    granularity = serializers.ChoiceField(choices=GRANULARITIES, required=False)
    format = serializers.ChoiceField(choices=FORMATS, required=False, default="json")

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a Python keyword: declared here
        return fields


class VolunteerInput(PeriodInput):
    province = serializers.CharField(required=False, max_length=2)
    market = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1)


class TargetInput(serializers.Serializer[Any]):
    coverage = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0, max_value=1)
    active = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=0, max_value=1)
    deadline = serializers.DateField()


# --- responses ------------------------------------------------------------------------------


class ScopeOutput(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=["nation", "province", "ward", "market"])
    key = serializers.CharField()
    name = serializers.CharField()


class PeriodOutput(serializers.Serializer[Any]):
    preset = serializers.ChoiceField(choices=PRESETS, allow_null=True)
    granularity = serializers.ChoiceField(choices=GRANULARITIES)

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class HeadlineOutput(serializers.Serializer[Any]):
    stalls = serializers.IntegerField()
    vendors_registered = serializers.IntegerField()
    vendors_with_qr = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True)
    vendors_activated = serializers.IntegerField()
    activation = serializers.FloatField(allow_null=True)
    active_vendors = serializers.IntegerField()
    active_7d = serializers.IntegerField()
    active_30d = serializers.IntegerField()
    active_share = serializers.FloatField(allow_null=True)
    regular_vendors = serializers.IntegerField()
    payments_count = serializers.IntegerField()
    payments_value = serializers.IntegerField()
    average_ticket = serializers.IntegerField(allow_null=True)


class SizeBucketOutput(serializers.Serializer[Any]):
    key = serializers.CharField()
    min = serializers.IntegerField()
    max = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    value = serializers.IntegerField()


class ChannelOutput(serializers.Serializer[Any]):
    channel = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    value = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class CountValueOutput(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    value = serializers.IntegerField()


class TargetOutput(serializers.Serializer[Any]):
    coverage = serializers.FloatField()
    active = serializers.FloatField()
    deadline = serializers.DateField()
    coverage_progress = serializers.FloatField(allow_null=True)
    active_progress = serializers.FloatField(allow_null=True)
    set_at = serializers.DateTimeField()
    set_by = serializers.CharField(allow_null=True)


class SeriesOutput(serializers.Serializer[Any]):
    start = serializers.DateField()
    payments_count = serializers.IntegerField()
    payments_value = serializers.IntegerField()
    active_vendors = serializers.IntegerField()


class CohortOutput(serializers.Serializer[Any]):
    month = serializers.CharField()
    vendors = serializers.IntegerField()
    active = serializers.ListField(child=serializers.IntegerField())


class WardRefOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class MarketRowOutput(HeadlineOutput):
    rank = serializers.IntegerField()
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    ward = WardRefOutput()
    legacy_province = serializers.CharField(allow_null=True)


class ProvinceRowOutput(HeadlineOutput):
    rank = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    markets = serializers.IntegerField()


class GroupOutput(HeadlineOutput):
    code = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    markets = serializers.IntegerField()
    series = SeriesOutput(many=True)


class PersonOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(allow_null=True)


class FollowUpOutput(serializers.Serializer[Any]):
    vendor_id = serializers.IntegerField()
    name = serializers.CharField()
    stall = serializers.CharField()
    phone = serializers.CharField()
    merchant_code = serializers.CharField()
    onboarded_on = serializers.DateField()
    onboarded_by = PersonOutput(allow_null=True)
    last_receipt = serializers.DateField(allow_null=True)


class StatsOutput(HeadlineOutput):
    scope = ScopeOutput()
    period = PeriodOutput()
    size_buckets = SizeBucketOutput(many=True)
    channels = ChannelOutput(many=True)
    refunds = CountValueOutput()
    disputes = CountValueOutput()
    previous = HeadlineOutput()
    target = TargetOutput(allow_null=True)
    series = SeriesOutput(many=True)
    cohorts = CohortOutput(many=True)
    provinces = ProvinceRowOutput(many=True, required=False, help_text="nation: provinces ranked")
    markets = MarketRowOutput(many=True, required=False, help_text="nation, province and ward")
    groups = GroupOutput(many=True, required=False, help_text="province: markets by former province")
    follow_up = FollowUpOutput(many=True, required=False, help_text="market: vendors to visit")


class VolunteerRowOutput(serializers.Serializer[Any]):
    volunteer = PersonOutput()
    onboarded = serializers.IntegerField()
    reached = serializers.IntegerField()
    reached_share = serializers.FloatField(allow_null=True)
    in_window = serializers.IntegerField()


class VolunteerStatsOutput(serializers.Serializer[Any]):
    scope = ScopeOutput()
    period = PeriodOutput()
    onboarded = serializers.IntegerField()
    reached = serializers.IntegerField()
    reached_share = serializers.FloatField(allow_null=True)
    volunteers = VolunteerRowOutput(many=True)


class TargetSetOutput(serializers.Serializer[Any]):
    scope = ScopeOutput()
    target = TargetOutput()
