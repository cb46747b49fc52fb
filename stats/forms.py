"""The dashboard's two forms: the period (a preset or a date range) and a target."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from stats.dashboard import GRANULARITY_LABELS, PRESET_LABELS


class PeriodForm(forms.Form):
    """Read from the query string; every field optional (nothing = the last 30 days)."""

    preset = forms.ChoiceField(required=False, choices=[("", ""), *PRESET_LABELS.items()])
    from_ = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    to = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    granularity = forms.ChoiceField(
        required=False, label=_("Show"), choices=[("", _("Automatic")), *GRANULARITY_LABELS.items()]
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # "from" is a keyword in Python, not in a query string.
        self.fields["from"] = self.fields.pop("from_")
        self.order_fields(["preset", "from", "to", "granularity"])


class TargetForm(forms.Form):
    """Percentages as people write them (0–100); stored as shares (0–1)."""

    coverage = forms.DecimalField(
        label=_("Stalls with a QR (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        help_text=_("Share of the stalls on the roster whose trader holds a verified QR."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    active = forms.DecimalField(
        label=_("Traders with a QR active in 30 days (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        help_text=_("Share of the traders holding a QR paid at least once in the last 30 days."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    deadline = forms.DateField(
        label=_("By"),
        help_text=_("The date the target should be reached."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def shares(self) -> tuple[Decimal, Decimal]:
        return self.cleaned_data["coverage"] / 100, self.cleaned_data["active"] / 100
