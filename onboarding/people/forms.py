from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class InviteForm(forms.Form):
    """A person to invite: full name and mobile number (checked by the service)."""

    full_name = forms.CharField(label=_("Full name"), max_length=128)
    phone = forms.CharField(label=_("Mobile number"), max_length=32)
