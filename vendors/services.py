"""Writes for vendors: onboarding, edits and status changes, and the account
checks they share with payout-account changes (``vendors/payout_changes.py``).

Duplicate checks name the existing vendor to those who may see it, so that a
volunteer standing at a stall can tell the trader "you are already registered
as …"; nobody else learns who holds a phone or an account.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chopay.identifiers import generate_merchant_code, normalize_vn_mobile
from chopay.text import fold_ascii
from common.errors import Conflict, DomainError, Invalid
from market import roles
from market.models import Bank, Market
from market.selectors import markets_managed_by
from vendors.consent import ConsentGiven
from vendors.models import Consent, SharedAccountClaim, Vendor
from vendors.selectors import find_by_account, find_by_phone, vendor_list

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_ACCOUNT_NAME = re.compile(r"^[A-Z0-9 .\-]{2,64}$")
_ACCOUNT_NUMBER = re.compile(r"^[A-Za-z0-9]{6,19}$")
_MERCHANT_CODE_TRIES = 8
# Where a vendor's money goes: changed only through a PayoutAccountChange.
PAYOUT_FIELDS = ("bank", "account_number", "account_name")


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A validation error on one field that keeps its code: Django drops a
    ``code=`` given next to a dict, and the API reports the code to clients."""
    return ValidationError({field: ValidationError(message, code=code)})


def normalize_account_name(raw: str) -> str:
    """``Nguyễn Thị Hoà`` → ``NGUYEN THI HOA``, as banks print it."""
    return " ".join(fold_ascii(raw).upper().split())


def clean_phone(raw: str) -> str:
    phone = normalize_vn_mobile(raw)
    if phone is None:
        raise field_error("phone", f"{raw!r} is not a Vietnamese mobile number.", "invalid_phone")
    return phone


def clean_account_number(raw: str) -> str:
    number = raw.strip().replace(" ", "")
    if not _ACCOUNT_NUMBER.match(number):
        raise field_error("account_number", "Account number must be 6–19 letters or digits.", "invalid_account_number")
    return number


def clean_account_name(raw: str) -> str:
    name = normalize_account_name(raw)
    if not _ACCOUNT_NAME.match(name):
        raise field_error(
            "account_name", "Account name must be the holder's name as the bank shows it.", "invalid_account_name"
        )
    return name


def clean_account(*, account_number: str, account_name: str) -> tuple[str, str]:
    return clean_account_number(account_number), clean_account_name(account_name)


def _may_see(actor: User, vendor: Vendor) -> bool:
    return vendor_list(user=actor).filter(pk=vendor.pk).exists()


def check_duplicates(
    *, actor: User, market: Market, phone: str, bank: Bank, account_number: str, exclude: int | None
) -> None:
    """Refuse a phone or an account another vendor of ``market`` has. The
    error names that vendor only to someone who may see them (a volunteer,
    board member or officer of the market), so that the volunteer at the stall
    can tell the trader "you are already registered as …"; anyone else (a
    vendor editing their own record) gets the same code without the name."""
    same_phone = find_by_phone(market_id=market.pk, phone=phone)
    if same_phone is not None and same_phone.pk != exclude:
        if _may_see(actor, same_phone):
            message = (
                f"This phone is already registered in {market.name} to vendor "
                f"#{same_phone.pk} {same_phone.full_name} ({same_phone.merchant_code})."
            )
        else:
            message = _("This phone is already registered to another vendor of this market.")
        raise field_error("phone", message, "duplicate_phone")
    same_account = find_by_account(market_id=market.pk, bank_bin=bank.bin, account_number=account_number)
    if same_account is not None and same_account.pk != exclude:
        if _may_see(actor, same_account):
            message = (
                f"This {bank.short_name} account is already registered in {market.name} to "
                f"vendor #{same_account.pk} {same_account.full_name} ({same_account.merchant_code})."
            )
        else:
            message = _("This bank account is already registered to another vendor of this market.")
        raise field_error("account_number", message, "duplicate_account")


# --- one account, one trader ------------------------------------------------------

# A confirmed or approved claim must be used within this time.
CLAIM_USE_WINDOW = dt.timedelta(days=1)


def _lock_account(*, bank: Bank, account_number: str) -> None:
    """Serialise, until the end of the current transaction, everyone putting
    this (bank, account) on a vendor: on PostgreSQL a transaction-scoped
    advisory lock keyed on the account (two registrations in different markets
    touch no common row, so no row lock or constraint could order them);
    SQLite serialises writers by itself."""
    if not connection.in_atomic_block:
        raise RuntimeError("account_claim_check must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"vendors.account:{bank.bin}:{account_number}"],
            )


def account_registered_elsewhere() -> DomainError:
    # Nothing about the other registration: not its name, id, market, merchant code or phone.
    return Conflict(
        "account_registered_elsewhere",
        _(
            "This bank account is already registered to a stall in another market. A trader may use one "
            "account for stalls in several markets only after confirming it: request a code sent by SMS to "
            "the trader's phone on record, or the approval of the board holding the account "
            "(POST /api/v1/vendors/account-claims/), then register the stall with account_claim."
        ),
        field="account_number",
    )


def account_claim_check(
    *,
    actor: User,
    market: Market,
    bank: Bank,
    account_number: str,
    claim: SharedAccountClaim | int | None = None,
    exclude_vendor_id: int | None = None,
) -> SharedAccountClaim | None:
    """Decide whether ``actor`` may put (``bank``, ``account_number``) on a
    vendor of ``market``: THE check for every way an account gets onto a
    vendor (registration, edit, an approved payout-account change).

    A receiving account identifies one trader. It may stand on stalls of
    other markets than ``market`` only when they are the same trader:

    - nobody else holds it (vendors other than ``exclude_vendor_id``, in any
      status, in other markets) → allowed, returns ``None``;
    - ``actor`` manages (board, province officer, superuser) every market
      whose stall holds it → allowed: the holding board itself registers;
    - ``claim`` (a ``SharedAccountClaim`` or its id) confirmed by the trader's
      SMS code or approved by the holding board, for this market and account,
      not used, decided less than ``CLAIM_USE_WINDOW`` ago → allowed, returns
      the claim, locked: the caller marks it used in the same transaction
      with :func:`account_claim_consume`;
    - otherwise raises ``DomainError`` 409 ``account_registered_elsewhere`` (or
      ``account_claim_invalid`` for a claim that does not cover this), which
      tells nothing about the other registration.

    Holders in ``market`` itself are the per-market duplicate check's job.
    Must run inside ``transaction.atomic()``: it takes a lock on the account
    so that two registrations racing in different markets cannot both pass.
    """
    _lock_account(bank=bank, account_number=account_number)
    holders = Vendor.objects.filter(bank_id=bank.bin, account_number=account_number).exclude(market_id=market.pk)
    if exclude_vendor_id is not None:
        holders = holders.exclude(pk=exclude_vendor_id)
    holding = dict(holders.values_list("pk", "market_id"))
    if not holding:
        return None
    managed = set(markets_managed_by(user=actor).filter(pk__in=set(holding.values())).values_list("pk", flat=True))
    if managed == set(holding.values()):
        return None
    if claim is None:
        raise account_registered_elsewhere()
    claim_id = claim.pk if isinstance(claim, SharedAccountClaim) else claim
    found = SharedAccountClaim.objects.select_for_update().filter(pk=claim_id).first()
    usable = (
        found is not None
        and found.status in (SharedAccountClaim.Status.CONFIRMED, SharedAccountClaim.Status.APPROVED)
        and found.vendor_id is None
        and found.market_id == market.pk
        and (found.bank_id, found.account_number) == (bank.bin, account_number)
        and found.holder_id in holding
        and found.decided_at is not None
        and timezone.now() < found.decided_at + CLAIM_USE_WINDOW
    )
    if not usable:
        raise Conflict(
            "account_claim_invalid",
            _(
                "This confirmation does not cover this account and market, was already used or has expired; "
                "request a new one."
            ),
            field="account_claim",
        )
    return found


def account_claim_consume(*, claim: SharedAccountClaim, vendor: Vendor) -> None:
    """Mark ``claim`` (returned by :func:`account_claim_check`) used by ``vendor``."""
    updated = SharedAccountClaim.objects.filter(
        pk=claim.pk,
        status__in=(SharedAccountClaim.Status.CONFIRMED, SharedAccountClaim.Status.APPROVED),
        vendor__isnull=True,
    ).update(status=SharedAccountClaim.Status.USED, vendor=vendor, used_at=timezone.now())
    if updated != 1:
        raise RuntimeError(f"shared account claim {claim.pk} was used meanwhile")  # it was locked: cannot happen


def vendor_create(
    *,
    actor: User,
    market: Market,
    full_name: str,
    phone: str,
    bank: Bank,
    account_number: str,
    account_name: str,
    stall_label: str = "",
    goods_category: str = Vendor.GoodsCategory.OTHER,
    account_claim: int | None = None,
    client_ref: uuid.UUID | None = None,
    consent: ConsentGiven | None = None,
) -> Vendor:
    """Register a trader's stall (pending until the board activates it). An
    account that a stall of another market holds needs ``account_claim``
    (see :func:`account_claim_check`).

    ``client_ref`` is the id the volunteer's phone gave the submission: sent
    again by the same actor (a resend after a lost connection), it returns the
    vendor already registered instead of a duplicate error. ``consent``, when
    given, is stored with the vendor (``Consent``) in the same transaction.
    See :func:`vendor_create_once` to know whether the vendor was created."""
    vendor, _created = vendor_create_once(
        actor=actor,
        market=market,
        full_name=full_name,
        phone=phone,
        bank=bank,
        account_number=account_number,
        account_name=account_name,
        stall_label=stall_label,
        goods_category=goods_category,
        account_claim=account_claim,
        client_ref=client_ref,
        consent=consent,
    )
    return vendor


def _already_submitted(*, actor: User, client_ref: uuid.UUID | None) -> Vendor | None:
    """The vendor a submission ``client_ref`` already registered, if ``actor``
    sent it; someone else's id is refused (ids are random: a clash is a bug or
    a replay, never a coincidence)."""
    if client_ref is None:
        return None
    found = Vendor.objects.select_related("market", "bank").filter(client_ref=client_ref).first()
    if found is None:
        return None
    if found.onboarded_by_id != actor.pk:
        raise Conflict(
            "client_ref_taken",
            _("This submission id belongs to another registration; reload the form and send it again."),
            field="client_ref",
        )
    return found


def vendor_create_once(
    *,
    actor: User,
    market: Market,
    full_name: str,
    phone: str,
    bank: Bank,
    account_number: str,
    account_name: str,
    stall_label: str = "",
    goods_category: str = Vendor.GoodsCategory.OTHER,
    account_claim: int | None = None,
    client_ref: uuid.UUID | None = None,
    consent: ConsentGiven | None = None,
) -> tuple[Vendor, bool]:
    """:func:`vendor_create`, answering ``(vendor, created)``: ``created`` is
    False when ``client_ref`` had already registered ``vendor`` (a resend), so
    that the caller sends the trader's SMS once."""
    if not roles.onboards_in_market(actor, market.pk):
        raise PermissionDenied("you may not onboard vendors in this market")
    existing = _already_submitted(actor=actor, client_ref=client_ref)
    if existing is not None:
        return existing, False
    phone = clean_phone(phone)
    account_number, account_name = clean_account(account_number=account_number, account_name=account_name)
    if consent is not None and not (consent.text.strip() and consent.version.strip()):
        raise Invalid(
            "consent_required", _("The trader's consent (its text and version) is required."), field="consent"
        )
    for _attempt in range(_MERCHANT_CODE_TRIES):
        vendor = Vendor(
            market=market,
            full_name=" ".join(full_name.split()),
            phone=phone,
            stall_label=stall_label.strip(),
            goods_category=goods_category,
            bank=bank,
            account_number=account_number,
            account_name=account_name,
            merchant_code=generate_merchant_code(),
            onboarded_by=actor,
            onboarded_at=timezone.now(),
            client_ref=client_ref,
        )
        try:
            with transaction.atomic():
                check_duplicates(
                    actor=actor, market=market, phone=phone, bank=bank, account_number=account_number, exclude=None
                )
                claim = account_claim_check(
                    actor=actor, market=market, bank=bank, account_number=account_number, claim=account_claim
                )
                # Uniqueness is _check_duplicates' job (it names the vendor) and, in a
                # race, the database's; full_clean's own check would answer a bare
                # "unique_together" when the other request commits in between.
                vendor.full_clean(
                    exclude=["merchant_code", "user", "onboarded_by", "client_ref"],
                    validate_unique=False,
                    validate_constraints=False,
                )
                vendor.save()
                if claim is not None:
                    account_claim_consume(claim=claim, vendor=vendor)
                if consent is not None:
                    Consent.objects.create(
                        vendor=vendor,
                        text=consent.text,
                        version=consent.version,
                        language=consent.language,
                        method=consent.method,
                        collected_by=actor,
                        collected_at=consent.collected_at or timezone.now(),
                    )
            return vendor, True
        except IntegrityError as exc:
            # The same submission sent twice at once (a resend racing the
            # original): the unique client_ref lets one in; the other finds it.
            existing = _already_submitted(actor=actor, client_ref=client_ref)
            if existing is not None:
                return existing, False
            # Two volunteers registering the same trader at once: the constraint
            # wins the race; report it like the checked duplicate.
            check_duplicates(
                actor=actor, market=market, phone=phone, bank=bank, account_number=account_number, exclude=None
            )
            if "merchant_code" not in str(exc):
                raise
        except (ValidationError, DomainError):
            # The resend's twin committed between the first look and the
            # duplicate check, which now finds "its" phone: the same submission.
            existing = _already_submitted(actor=actor, client_ref=client_ref)
            if existing is not None:
                return existing, False
            raise
    raise RuntimeError("could not allocate a unique merchant code")
