"""The board's one form: the reason for a rejection (a registration or a
payout-account change). Required, and checked again by the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
