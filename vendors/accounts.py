"""A trader's login, by invitation: whoever onboards in the trader's market
(volunteer, board, officer) sends it, usually right after registering the stall.

The login is the one the stall already has (a new invitation: e.g. the first
SMS was lost), else the login on record for the trader's phone number when it
holds no other stall, else a new one (inactive, no password). The SMS carries a
one-time link and a code to set a password (``accounts.invitations``); the
trader then signs in with their phone number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.invitations import invitation_send, person_create, person_with_phone
from accounts.models import Invitation
from common.errors import NotFound
from market import roles
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def vendor_account_invite(*, actor: User, vendor: Vendor, note: str = "") -> Invitation:
    """Create the trader's login if the stall has none, and send its invitation by SMS.
    ``note`` opens the same SMS (e.g. "Ma quay cua ban: 48210736."; ASCII-folded,
    at most 120 characters), so the trader gets one message, not two."""
    if not roles.invites_vendor_accounts(actor, vendor.market_id):
        raise NotFound("vendor_not_found", _("No such trader."))
    with transaction.atomic():
        locked = Vendor.objects.select_for_update().select_related("market").get(pk=vendor.pk)
        user = locked.user
        if user is None:
            holder = person_with_phone(locked.phone)
            if holder is not None and not hasattr(holder, "vendor"):
                user = holder
            else:
                user = person_create(full_name=locked.full_name, phone=locked.phone)
            locked.user = user
            locked.save(update_fields=["user"])
            vendor.user = user
        return invitation_send(
            actor=actor,
            user=user,
            phone=locked.phone,
            kind=Invitation.Kind.VENDOR,
            place=locked.market.name,
            note=note,
        )
