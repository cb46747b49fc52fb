"""The board's forms: the reason for a rejection (a registration or a
payout-account change), required and checked again by the services; and the
correction of a rejected registration before it is sent again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from market.models import Bank
from vendors.models import Vendor

REASON_MAX = 500


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        help_text=_("The volunteer reads it to correct the registration, e.g. “the account name does not match”."),
        max_length=REASON_MAX,
        required=True,
        strip=True,
        error_messages={
            "required": _("Give the reason for rejecting."),
            "max_length": _("The reason may be at most %(limit_value)d characters."),
        },
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX}),
    )


class BankChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.short_name} – {obj.name} ({obj.bin})"


class CorrectionForm(forms.Form):
    """A rejected registration, corrected by the volunteer (or the board) before
    it is sent again. Formats and duplicates are checked by the service."""

    full_name = forms.CharField(label=_("Trader's full name"), max_length=128)
    phone = forms.CharField(label=_("Trader's phone"), max_length=32, help_text=_("For example 0912 345 678"))
    stall_label = forms.CharField(label=_("Stall"), max_length=32, required=False)
    goods_category = forms.ChoiceField(label=_("Goods"), choices=Vendor.GoodsCategory.choices)
    bank = BankChoice(label=_("Bank"), queryset=Bank.objects.order_by("short_name"), empty_label=None)
    account_number = forms.CharField(label=_("Account number"), max_length=32)
    account_name = forms.CharField(
        label=_("Account name"), max_length=64, help_text=_("As the bank prints it, e.g. NGUYEN THI HOA")
    )

    @classmethod
    def for_vendor(cls, vendor: Vendor) -> CorrectionForm:
        return cls(initial={field: getattr(vendor, field) for field in CORRECTION_FIELDS})


CORRECTION_FIELDS = ("full_name", "phone", "stall_label", "goods_category", "bank", "account_number", "account_name")
