"""What the volunteer pages' tests share: the form as the page sends it."""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse

from vendors import consent as consents


def new_url(market: Any) -> str:
    return reverse("onboard:trader-new", args=[market.pk])


def trader_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "client_ref": str(uuid.uuid4()),
        "consent_version": consents.CURRENT.version,
        "full_name": "Lê Văn Tám",
        "phone": "0987 654 321",
        "stall_label": "B-03",
        "goods_category": "vegetables",
        "bank": "970422",
        "account_number": "0987654321",
        "account_name": "",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def texts_to(phone: str) -> dict[str, int]:
    """The SMS queued for ``phone``, counted by kind: the welcome with the
    merchant code, and the invitation to the trader's own login."""
    from payments.models import OutboundSms

    bodies = list(OutboundSms.objects.filter(to=phone).values_list("body", flat=True))
    return {
        "welcome": sum("Ma nguoi ban" in body for body in bodies),
        "invitation": sum("Dat mat khau" in body for body in bodies),
        "all": len(bodies),
    }
