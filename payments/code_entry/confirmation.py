"""Confirmation codes: issued with each code-entry payment, confirmed by the vendor.

The codes are HOTP bound to the amount (``chopay.codes``); the server keeps the
counter, never the code. A vendor entering wrong codes is throttled.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chopay import codes, ussd
from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    Payment,
    PaymentEvent,
    UssdSession,
)
from payments.sms.services import outbound_sms_queue
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Wrong codes a vendor may enter in the window before the API answers 429.
CONFIRM_MAX_FAILURES: Final = 5
CONFIRM_WINDOW: Final = dt.timedelta(minutes=15)
# How far back a code is still recognised, to say "already used"/"expired"
# rather than "wrong", and how many codes are tried at most.
CODE_LOOKBACK: Final = dt.timedelta(days=7)
CODE_MAX_CANDIDATES: Final = 2000


def confirmation_code_issue(*, payment: Payment, now: dt.datetime) -> tuple[str, dt.datetime]:
    """Advance the vendor's HOTP counter and compute the payment's code.

    The conditional UPDATE both increments the counter and locks the vendor
    row until commit, so concurrent payments to one vendor get distinct
    counters; the code itself is returned for the SMS and never stored.
    """
    vendor_id = payment.vendor_id
    assert vendor_id is not None
    Vendor.objects.filter(pk=vendor_id).update(code_counter=F("code_counter") + 1)
    counter, secret = Vendor.objects.filter(pk=vendor_id).values_list("code_counter", "code_secret").get()
    expires_at = now + dt.timedelta(seconds=settings.CONFIRMATION_CODE_TTL_SECONDS)
    ConfirmationCode.objects.create(payment=payment, vendor_id=vendor_id, counter=counter, expires_at=expires_at)
    code = codes.confirmation_code(codes.key_from_hex(secret), counter=counter, amount=payment.amount)
    return code, expires_at


def queue_success_sms(*, payment: Payment, code: str, expires_at: dt.datetime) -> None:
    vendor = payment.vendor
    assert vendor is not None
    session = UssdSession.objects.filter(payment=payment).first()
    amount = ussd.format_amount(payment.amount)
    expires = timezone.localtime(expires_at).strftime("%H:%M %d/%m")
    if session is not None:
        outbound_sms_queue(
            to=session.phone,
            payment=payment,
            body=(
                f"Cho 4.0: Ban da tra {amount} cho {ussd.short(vendor.full_name, 24)} "
                f"({ussd.short(vendor.market.name, 24)}). Ma xac nhan {code}, het han {expires}. "
                "Dua ma cho nguoi ban."
            ),
        )
    outbound_sms_queue(
        to=vendor.phone,
        payment=payment,
        body=(
            f"Cho 4.0: Ban nhan {amount} tu {payment.payer_masked}. Ma xac nhan {code}, het han {expires}. "
            f"Ma GD {payment.provider_reference[:24]}"
        ),
    )


def queue_failure_sms(*, payment: Payment) -> None:
    session = UssdSession.objects.filter(payment=payment).first()
    if session is None or payment.vendor is None:
        return
    outbound_sms_queue(
        to=session.phone,
        payment=payment,
        body=(
            f"Cho 4.0: Giao dich {ussd.format_amount(payment.amount)} cho "
            f"{ussd.short(payment.vendor.full_name, 24)} khong thanh cong. Ban khong bi tru tien."
        ),
    )


# --- Matching a code to a payment ---------------------------------------------------

Match = Literal["ok", "used", "expired"]


def lock_vendor(vendor_id: int) -> Vendor:
    """Lock the vendor row: serialises the throttle check and code matching per vendor."""
    return Vendor.objects.select_for_update().get(pk=vendor_id)


def find_code(
    *, vendor: Vendor, code: str, amount: int | None, at: dt.datetime
) -> tuple[ConfirmationCode, Match] | None:
    """The vendor's confirmation code that ``code`` is, judged at moment ``at``.

    Tries the vendor's recent codes (for ``amount`` only, when given). An unused,
    unexpired match wins over a used or expired one, which are reported so the
    vendor learns why the code is refused.
    """
    if not codes.is_well_formed(code):
        return None
    candidates = ConfirmationCode.objects.select_related("payment").filter(
        vendor=vendor, payment__status=Payment.Status.SUCCEEDED, expires_at__gt=at - CODE_LOOKBACK
    )
    if amount is not None:
        candidates = candidates.filter(payment__amount=amount)
    key = codes.key_from_hex(vendor.code_secret)
    found: list[tuple[ConfirmationCode, Match]] = []
    for candidate in candidates.order_by("-counter")[:CODE_MAX_CANDIDATES]:
        if codes.code_matches(key, code, counter=candidate.counter, amount=candidate.payment.amount):
            if candidate.used_at is not None:
                found.append((candidate, "used"))
            elif candidate.expires_at <= at:
                found.append((candidate, "expired"))
            else:
                return candidate, "ok"
    return found[0] if found else None


def mark_used(*, code: ConfirmationCode, now: dt.datetime, confirmed_at: dt.datetime, data: dict[str, object]) -> bool:
    """Use the code once (conditional UPDATE) and mark the payment vendor-confirmed."""
    if not ConfirmationCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=now):
        return False
    Payment.objects.filter(pk=code.payment_id, vendor_confirmed_at__isnull=True).update(
        vendor_confirmed_at=confirmed_at, updated_at=now
    )
    PaymentEvent.objects.create(payment_id=code.payment_id, kind="vendor_confirmed", data=data)
    return True


# --- Online confirmation by the vendor -------------------------------------------------


@dataclass(frozen=True)
class ConfirmResult:
    outcome: str  # a ConfirmationAttempt.Outcome
    payment: Payment | None = None
    retry_after: int = 0


def confirmation_code_confirm(
    *,
    vendor: Vendor,
    user: User | None,
    code: str,
    amount: int | None,
    remote_addr: str | None,
    now: dt.datetime | None = None,
) -> ConfirmResult:
    """Check a code the customer shows; every attempt is logged, failures throttled.

    The throttle counts failed attempts in the database (it must hold during a
    Redis outage) under a lock on the vendor row, so parallel guesses cannot
    all slip under the limit. Throttled attempts are logged but not counted.
    """
    Outcome = ConfirmationAttempt.Outcome
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_vendor(vendor.pk)
        attempt = ConfirmationAttempt(
            vendor=locked,
            user=user,
            code_tail=codes.code_tail(code),
            amount=amount,
            remote_addr=remote_addr,
        )
        retry_after = throttle_retry_after(vendor_id=locked.pk, now=now)
        if retry_after:
            attempt.outcome = Outcome.THROTTLED
            attempt.save()
            return ConfirmResult(Outcome.THROTTLED, retry_after=retry_after)

        found = find_code(vendor=locked, code=code, amount=amount, at=now)
        if found is None:
            result = ConfirmResult(Outcome.WRONG)
        else:
            code_row, match = found
            if match == "ok" and not mark_used(
                code=code_row, now=now, confirmed_at=now, data={"via": "online", "user": getattr(user, "pk", None)}
            ):
                match = "used"  # a parallel confirmation won
            outcome = {"ok": Outcome.CONFIRMED, "used": Outcome.USED, "expired": Outcome.EXPIRED}[match]
            payment = Payment.objects.get(pk=code_row.payment_id)
            result = ConfirmResult(outcome, payment=payment)
        attempt.outcome = result.outcome
        attempt.succeeded = result.outcome == Outcome.CONFIRMED
        attempt.payment = result.payment
        attempt.save()
    if not attempt.succeeded:
        logger.info("confirmation failed for vendor %s: %s", vendor.pk, result.outcome)
    return result


def throttle_retry_after(*, vendor_id: int, now: dt.datetime) -> int:
    """Seconds until the vendor may try again, 0 if they may now."""
    failures = list(
        ConfirmationAttempt.objects.filter(vendor_id=vendor_id, succeeded=False, created_at__gt=now - CONFIRM_WINDOW)
        .exclude(outcome=ConfirmationAttempt.Outcome.THROTTLED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(failures) < CONFIRM_MAX_FAILURES:
        return 0
    # Allowed again when the count drops below the limit: when this one leaves the window.
    release = failures[len(failures) - CONFIRM_MAX_FAILURES] + CONFIRM_WINDOW
    return max(1, math.ceil((release - now).total_seconds()))
