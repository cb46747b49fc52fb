"""Registering a trader from the volunteer's form: the vendor (through
``vendors.services.vendor_create_once``, which holds every rule), then, for a
new registration only, the trader's SMS with their merchant code and the
invitation to their own login."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from chopay.text import fold_ascii
from common.errors import DomainError
from vendors.accounts import vendor_account_invite
from vendors.consent import ConsentGiven
from vendors.models import Vendor
from vendors.services import vendor_create_once

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from market.models import Bank, Market


@dataclass(frozen=True)
class Registration:
    vendor: Vendor
    # False: the same submission had already registered ``vendor`` (a resend).
    created: bool
    # Whether the trader's SMS (merchant code and invitation) went into the outbox.
    welcomed: bool


def welcome_note(vendor: Vendor) -> str:
    """What opens the trader's invitation SMS: their merchant code first (the
    note is cut at 120 characters), then the stall. ASCII: any phone shows it."""
    code = f"{vendor.merchant_code[:4]} {vendor.merchant_code[4:]}"
    stall = f"Sap {fold_ascii(vendor.stall_label)} da" if vendor.stall_label else "Da"
    return f"Ma nguoi ban: {code}. {stall} dang ky nhan tien qua QR, cho Ban quan ly cho duyet."


def trader_welcome(*, actor: User, vendor: Vendor) -> None:
    """One SMS to the trader: their merchant code and the invitation to their
    own login (``vendors.accounts.vendor_account_invite``: a one-time link and
    code to set a password)."""
    vendor_account_invite(actor=actor, vendor=vendor, note=welcome_note(vendor))


def trader_register(
    *,
    actor: User,
    market: Market,
    client_ref: uuid.UUID,
    consent: ConsentGiven,
    full_name: str,
    phone: str,
    stall_label: str,
    goods_category: str,
    bank: Bank,
    account_number: str,
    account_name: str,
) -> Registration:
    """Register the trader (idempotent by ``client_ref``) and welcome them
    once, in one transaction: the SMS row commits with the registration (a
    resend racing the original sees both or neither). The registration stands
    even if the SMS cannot be queued: the done screen then says so."""
    with transaction.atomic():
        vendor, created = vendor_create_once(
            actor=actor,
            market=market,
            full_name=full_name,
            phone=phone,
            stall_label=stall_label,
            goods_category=goods_category,
            bank=bank,
            account_number=account_number,
            account_name=account_name,
            client_ref=client_ref,
            consent=consent,
        )
        welcomed = False
        if created:
            try:
                with transaction.atomic():
                    trader_welcome(actor=actor, vendor=vendor)
                welcomed = True
            except (DomainError, ValidationError):
                welcomed = False
    return Registration(vendor=vendor, created=created, welcomed=welcomed)
