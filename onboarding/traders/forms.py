"""The one form a volunteer fills at a stall. Field checks give Vietnamese
messages here; the rules themselves (phone, account, duplicates, consent,
the submission id) are ``vendors.services.vendor_create``'s."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chopay.text import fold_ascii
from market.models import Bank
from vendors import consent as consents
from vendors.models import Vendor
from vendors.services import clean_account_name, clean_account_number, clean_phone, normalize_account_name

# A consent ticked offline is stored with the time it was ticked, if the phone
# says it was within this window; otherwise with the time the form arrived.
CONSENT_CLOCK_WINDOW = dt.timedelta(days=7)


class BankChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Bank) -> str:
        return f"{obj.short_name} — {obj.name} ({obj.bin})"


def bank_search_text(bank: Bank) -> str:
    """What the bank picker matches typed text against: names without
    diacritics, lower case, plus the BIN and code ("vietcom", "vcb", "970436")."""
    return " ".join(fold_ascii(f"{bank.short_name} {bank.name} {bank.code} {bank.bin}").lower().split())


class TraderForm(forms.Form):
    client_ref = forms.UUIDField(widget=forms.HiddenInput)
    consent_version = forms.CharField(max_length=32, widget=forms.HiddenInput)
    # Milliseconds since 1970 when the box was ticked (set by the page's script).
    consent_at = forms.IntegerField(required=False, widget=forms.HiddenInput)
    full_name = forms.CharField(label=_("Trader's full name"), max_length=128)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        help_text=_("For example 0912 345 678"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    stall_label = forms.CharField(label=_("Stall"), max_length=32, required=False, help_text=_("For example A-12"))
    goods_category = forms.ChoiceField(
        label=_("Goods"), choices=Vendor.GoodsCategory.choices, widget=forms.RadioSelect, initial="vegetables"
    )
    bank = BankChoiceField(
        label=_("Bank"), queryset=Bank.objects.order_by("short_name"), empty_label=_("Choose the bank")
    )
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_name = forms.CharField(
        label=_("Account name"),
        max_length=64,
        required=False,
        help_text=_("As the bank prints it, without diacritics. Left empty: made from the trader's name."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    consent = forms.BooleanField(
        label=_("The trader has read (or heard) the text above and agrees."),
        error_messages={"required": _("Ask the trader for their consent: it is required to register them.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["full_name"].error_messages["required"] = _("Enter the trader's name.")
        self.fields["phone"].error_messages["required"] = _("Enter the trader's mobile phone number.")
        self.fields["bank"].error_messages["required"] = _("Choose the bank of the trader's account.")
        self.fields["bank"].error_messages["invalid_choice"] = _("Choose a bank from the list.")
        self.fields["account_number"].error_messages["required"] = _("Enter the account number.")

    @classmethod
    def blank(cls) -> TraderForm:
        """A new form: its own submission id (the page's script keeps it, or
        makes a new one for the next trader) and the current consent text."""
        return cls(initial={"client_ref": uuid.uuid4(), "consent_version": consents.CURRENT.version})

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if len(name) < 2:
            raise ValidationError(_("Enter the trader's name."))
        return name

    def clean_phone(self) -> str:
        try:
            return clean_phone(self.cleaned_data["phone"])
        except ValidationError:
            raise ValidationError(
                _("This is not a Vietnamese mobile number. Enter 10 digits starting with 0, e.g. 0912 345 678.")
            ) from None

    def clean_account_number(self) -> str:
        try:
            return clean_account_number(self.cleaned_data["account_number"])
        except ValidationError:
            raise ValidationError(_("An account number has 6 to 19 digits or letters.")) from None

    def clean_consent_version(self) -> str:
        version = self.cleaned_data["consent_version"]
        if version not in consents.VERSIONS:
            raise ValidationError(_("The consent text has changed: read the new text to the trader and tick again."))
        return version

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("full_name")
        account_name = normalize_account_name(data.get("account_name") or "") or (
            normalize_account_name(name) if name else ""
        )
        try:
            data["account_name"] = clean_account_name(account_name)
        except ValidationError:
            if name or data.get("account_name"):
                self.add_error("account_name", _("Write the name as the bank shows it: letters without diacritics."))
        return data

    def consent_given(self) -> consents.ConsentGiven:
        data = self.cleaned_data
        return consents.consent_for_version(data["consent_version"], method="form", collected_at=self._ticked_at())

    def _ticked_at(self) -> dt.datetime | None:
        millis = self.cleaned_data.get("consent_at")
        if not millis:
            return None
        try:
            moment = dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
        now = timezone.now()
        return moment if now - CONSENT_CLOCK_WINDOW <= moment <= now else None
