"""Code entry without data: USSD payments, confirmation codes, offline sync.

The path of a payment:

1. ``ussd_handle`` walks the menu (``chopay.ussd``). When the customer
   confirms, a ``Payment`` is written as *pending*, linked to the session row
   (locked while a request is handled) and unique per
   (source="ussd", provider_txn_id="<sessionId>~<session row id>"), so a
   retried final step finds it instead of making a second one.
2. The rail is charged outside any transaction (no lock is held across the
   network) with an idempotency key derived from the payment.
3. ``code_entry_payment_settle`` applies the answer: on approval the payment
   succeeds, a confirmation code is issued and both SMS are queued in the same
   transaction; a decline fails it; no answer leaves it pending for
   ``check_rail_payment``.

Confirmation codes are HOTP bound to the amount (``chopay.codes``);
the server keeps the counter, never the code.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from chopay import codes, ussd
from chopay.identifiers import normalize_vn_mobile
from common.errors import Conflict, Forbidden
from common.tasks import enqueue_on_commit
from market import roles
from market.models import Market
from payments.models import (
    Channel,
    ConfirmationAttempt,
    ConfirmationCode,
    OfflineConfirmation,
    OfflineKeyGrant,
    Payment,
    PaymentEvent,
    Source,
    TransitionError,
    UssdSession,
    local_date,
)
from payments.rails import ChargeRequest, RailResult, RailUnavailable, get_rail
from payments.sms.services import outbound_sms_queue
from vendors.models import Vendor, new_code_secret

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
# A rail that has not answered within this long is asked again by the sweep.
RAIL_POLL_AFTER: Final = dt.timedelta(seconds=30)
RAIL_POLL_GIVE_UP: Final = dt.timedelta(days=1)
# Devices' clocks drift; a capture this far in the future is still accepted.
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
# No offline capture happened before the programme existed; older is an error.
EARLIEST_CAPTURE: Final = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# flag_reason of a pending offline confirmation not yet checked because the
# vendor was over the wrong-code limit when it was uploaded; the
# reconciliation checks it (and counts it) once the limit allows.
THROTTLED_UNCHECKED: Final = "throttled"
OFFLINE_SYNC_MAX_ITEMS: Final = 100
# A real USSD dialogue lasts a few minutes; an id seen again after this long is recycled.
USSD_SESSION_IDLE: Final = dt.timedelta(minutes=30)


def mask_phone(e164: str) -> str:
    """``+84912345678`` → ``0912***678``: enough for a vendor to recognise a regular."""
    local = "0" + e164[3:] if e164.startswith("+84") else e164
    if len(local) < 8:
        return "***"
    return f"{local[:4]}***{local[-3:]}"


# --- USSD -----------------------------------------------------------------------


def _vendor_card(merchant_code: str) -> ussd.VendorCard | None:
    vendor = (
        Vendor.objects.select_related("market")
        .filter(merchant_code=merchant_code, status=Vendor.Status.ACTIVE, market__status=Market.Status.ACTIVE)
        .first()
    )
    if vendor is None:
        return None
    return ussd.vendor_card(
        id=vendor.pk,
        merchant_code=vendor.merchant_code,
        full_name=vendor.full_name,
        market_name=vendor.market.name,
        stall_label=vendor.stall_label,
    )


def _reply_from_wire(wire: str) -> ussd.Reply:
    return ussd.Reply(wire[4:], end=wire.startswith("END "))


def ussd_handle(*, session_id: str, phone_number: str, service_code: str, text: str) -> ussd.Reply:
    """One request of a USSD session: the reply to show, and a payment when the
    customer confirms. The same (session, text) always gets the same reply."""
    phone = normalize_vn_mobile(phone_number)
    with transaction.atomic():
        defaults = {"phone": phone or phone_number[:16], "service_code": service_code[:32]}
        session, created = UssdSession.objects.select_for_update().get_or_create(
            session_id=session_id, defaults=defaults
        )
        if not created and text == "" and session.updated_at < timezone.now() - USSD_SESSION_IDLE:
            # A new dial under an id the aggregator has recycled: archive the
            # old dialogue so that it cannot answer for the new one.
            UssdSession.objects.filter(pk=session.pk).update(session_id=f"{session_id[:40]}~{session.pk}")
            session = UssdSession.objects.create(session_id=session_id, **defaults)
        if session.phone != (phone or phone_number[:16]):
            # A session id reused from another phone: never act on it.
            return ussd.message_screen(ussd.SESSION_MISMATCH)
        if phone is None:
            return ussd.message_screen(ussd.BAD_PHONE)
        if session.last_reply and text == session.last_text:
            return _reply_from_wire(session.last_reply)

        dialogue = ussd.walk(text, find_vendor=_vendor_card, limits=get_rail().limits)
        if dialogue.vendor is not None:
            session.vendor_id = dialogue.vendor.id
        session.amount = dialogue.amount
        if dialogue.step is not ussd.Step.PAY:
            reply = ussd.screen(dialogue)
            session.last_text, session.last_reply = text[:255], reply.wire
            session.save()
            return reply

        payment = session.payment
        if payment is None:
            assert dialogue.vendor is not None and dialogue.amount is not None
            payment = _payment_create_pending(session=session, vendor_id=dialogue.vendor.id, amount=dialogue.amount)
            session.payment = payment
        session.save()

    if payment.status == Payment.Status.PENDING:
        result = _charge(payment=payment, payer_phone=phone)
        payment = code_entry_payment_settle(payment_id=payment.pk, result=result)
    else:
        result = None
    reply = _result_screen(payment=payment, result=result)
    UssdSession.objects.filter(pk=session.pk).update(last_text=text[:255], last_reply=reply.wire)
    return reply


def _payment_create_pending(*, session: UssdSession, vendor_id: int, amount: int) -> Payment:
    vendor = Vendor.objects.select_related("market").get(pk=vendor_id)
    now = timezone.now()
    payment = Payment(
        vendor=vendor,
        market=vendor.market,
        amount=amount,
        channel=Channel.CODE_ENTRY,
        source=Source.USSD,
        # The session row, not only the aggregator's id (which may be recycled
        # one day), keys the payment: a retried final step finds this one.
        provider_txn_id=f"{session.session_id[:40]}~{session.pk}",
        status=Payment.Status.PENDING,
        attribution=Payment.Attribution.CODE_ENTRY,
        payer_masked=mask_phone(session.phone),
        content=f"USSD {session.service_code}".strip()[:255],
        occurred_at=now,
        local_date=local_date(now),
    )
    payment.full_clean()
    payment.save()
    PaymentEvent.objects.create(payment=payment, kind="created", data={"via": "ussd"})
    return payment


def _charge_request(payment: Payment, *, payer_phone: str) -> ChargeRequest:
    assert payment.vendor is not None
    return ChargeRequest(
        idempotency_key=f"cho40-payment-{payment.pk}",
        payer_phone=payer_phone,
        amount=payment.amount,
        merchant_code=payment.vendor.merchant_code,
        description=f"Cho 4.0 {payment.vendor.merchant_code}",
    )


def _charge(*, payment: Payment, payer_phone: str) -> RailResult:
    request = _charge_request(payment, payer_phone=payer_phone)
    try:
        return get_rail().charge(request)
    except RailUnavailable as exc:
        logger.warning("rail unavailable for payment %s: %s", payment.pk, exc)
    except Exception:
        # The charge may or may not have happened: keep the payment pending
        # and let the status check find out, never guess.
        logger.exception("rail error for payment %s", payment.pk)
    return RailResult("pending", "", "unavailable")


def _result_screen(*, payment: Payment, result: RailResult | None) -> ussd.Reply:
    assert payment.vendor is not None
    if payment.status == Payment.Status.PENDING:
        return ussd.pending_screen()
    if payment.status == Payment.Status.FAILED:
        reason = result.reason if result is not None else _decline_reason(payment)
        return ussd.declined_screen(reason=reason)
    return ussd.succeeded_screen(
        amount=payment.amount, vendor_name=payment.vendor.full_name, transaction_id=payment.provider_reference
    )


def _decline_reason(payment: Payment) -> str:
    event = payment.events.filter(kind=f"status:{Payment.Status.FAILED}").last()
    return str(event.data.get("reason", "")) if event else ""


# --- Settling a payment with the rail's answer -------------------------------------


def code_entry_payment_settle(*, payment_id: int, result: RailResult, notify_failure: bool = False) -> Payment:
    """Apply the rail's answer to a pending code-entry payment (idempotent).

    Approved: the payment succeeds, a confirmation code is issued, and the SMS
    to customer and vendor are queued in the same transaction. Declined: it
    fails (the customer is told by SMS if they were told "pending" before).
    Pending: nothing changes and a status check is scheduled.
    """
    with transaction.atomic():
        # of=("self",): PostgreSQL refuses FOR UPDATE across the nullable vendor join.
        payment = Payment.objects.select_for_update(of=("self",)).select_related("vendor__market").get(pk=payment_id)
        if payment.status != Payment.Status.PENDING:
            return payment  # settled already by a retry or the status check
        now = timezone.now()
        try:
            if result.status == "approved":
                payment.transition(
                    Payment.Status.SUCCEEDED,
                    data={"rail_transaction_id": result.transaction_id},
                    provider_reference=result.transaction_id[:64],
                    occurred_at=now,
                    local_date=local_date(now),
                )
                code, expires_at = _confirmation_code_issue(payment=payment, now=now)
                _queue_success_sms(payment=payment, code=code, expires_at=expires_at)
                enqueue_on_commit("payments.tasks.code_entry.reconcile_offline_confirmations", payment.vendor_id)
            elif result.status == "declined":
                payment.transition(
                    Payment.Status.FAILED,
                    data={"reason": result.reason, "rail_transaction_id": result.transaction_id},
                    provider_reference=result.transaction_id[:64],
                )
                if notify_failure:
                    _queue_failure_sms(payment=payment)
            else:
                enqueue_on_commit(
                    "payments.tasks.code_entry.check_rail_payment",
                    payment.pk,
                    countdown=RAIL_POLL_AFTER.total_seconds(),
                )
        except TransitionError:
            payment.refresh_from_db()
    return payment


def code_entry_payment_poll(*, payment_id: int) -> str:
    """Ask the rail about a payment still pending; return its status afterwards."""
    payment = Payment.objects.select_related("vendor").filter(pk=payment_id, source=Source.USSD).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return payment.status if payment else "missing"
    session = UssdSession.objects.filter(payment=payment).first()
    request = _charge_request(payment, payer_phone=session.phone if session else "")
    try:
        result = get_rail().status(request)
    except Exception as exc:  # unknown outcome: still pending, asked again later
        logger.warning("rail status for payment %s failed: %s", payment.pk, exc)
        return Payment.Status.PENDING
    if result.status == "pending":
        return Payment.Status.PENDING  # the next sweep asks again
    return code_entry_payment_settle(payment_id=payment.pk, result=result, notify_failure=True).status


def code_entry_pending_payment_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Code-entry payments the rail has not settled yet, for the periodic status check.

    After RAIL_POLL_GIVE_UP they are left alone (and stay pending) for the
    board to settle with the rail's operator; asking every minute forever
    would only load the rail.
    """
    now = now or timezone.now()
    return list(
        Payment.objects.filter(
            source=Source.USSD,
            status=Payment.Status.PENDING,
            recorded_at__lt=now - RAIL_POLL_AFTER,
            recorded_at__gt=now - RAIL_POLL_GIVE_UP,
        )
        .order_by("recorded_at")
        .values_list("pk", flat=True)[:limit]
    )


def _confirmation_code_issue(*, payment: Payment, now: dt.datetime) -> tuple[str, dt.datetime]:
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


def _queue_success_sms(*, payment: Payment, code: str, expires_at: dt.datetime) -> None:
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


def _queue_failure_sms(*, payment: Payment) -> None:
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


def _lock_vendor(vendor_id: int) -> Vendor:
    """Lock the vendor row: serialises the throttle check and code matching per vendor."""
    return Vendor.objects.select_for_update().get(pk=vendor_id)


def _find_code(
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


def _mark_used(*, code: ConfirmationCode, now: dt.datetime, confirmed_at: dt.datetime, data: dict[str, object]) -> bool:
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
        locked = _lock_vendor(vendor.pk)
        attempt = ConfirmationAttempt(
            vendor=locked,
            user=user,
            code_tail=codes.code_tail(code),
            amount=amount,
            remote_addr=remote_addr,
        )
        retry_after = _throttle_retry_after(vendor_id=locked.pk, now=now)
        if retry_after:
            attempt.outcome = Outcome.THROTTLED
            attempt.save()
            return ConfirmResult(Outcome.THROTTLED, retry_after=retry_after)

        found = _find_code(vendor=locked, code=code, amount=amount, at=now)
        if found is None:
            result = ConfirmResult(Outcome.WRONG)
        else:
            code_row, match = found
            if match == "ok" and not _mark_used(
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


def _throttle_retry_after(*, vendor_id: int, now: dt.datetime) -> int:
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


# --- Offline key ------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineKey:
    key_hex: str
    counter: int
    device_id: str


def offline_key_grant(*, vendor: Vendor, device_id: str) -> OfflineKey:
    """The vendor's key, once per device: a second request for the device is refused."""
    if vendor.status != Vendor.Status.ACTIVE:
        raise Forbidden(
            "vendor_not_active",
            "Only an active vendor can receive an offline key.",
        )
    try:
        with transaction.atomic():
            grant = OfflineKeyGrant(vendor=vendor, device_id=device_id)
            grant.full_clean(validate_unique=False, validate_constraints=False)  # the INSERT decides
            grant.save()
            counter, secret = Vendor.objects.filter(pk=vendor.pk).values_list("code_counter", "code_secret").get()
    except IntegrityError:
        raise Conflict(
            "key_already_issued",
            "The offline key was already issued to this device; it is shown once per device.",
        ) from None
    return OfflineKey(key_hex=secret, counter=counter, device_id=device_id)


def vendor_rotate_code_secret(*, actor: User, vendor: Vendor) -> int:
    """Give the vendor a new key (a device was lost) and revoke every device grant.

    Codes issued before the rotation no longer verify; the payments themselves
    stand. Returns how many device grants were revoked.
    """
    is_self = roles.is_vendor_user(actor, vendor)
    if not is_self and not roles.manages_market(actor, vendor.market_id):
        raise Forbidden(
            "permission_denied",
            "Only the vendor, their market board or the province may rotate the key.",
        )
    with transaction.atomic():
        locked = _lock_vendor(vendor.pk)
        locked.code_secret = new_code_secret()
        locked.save(update_fields=["code_secret", "updated_at"])
        revoked, _ = OfflineKeyGrant.objects.filter(vendor=locked).delete()
    logger.info("vendor %s code secret rotated by user %s; %s device grants revoked", vendor.pk, actor.pk, revoked)
    return int(revoked)


# --- Offline sync -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineItem:
    client_uuid: uuid.UUID
    code: str
    amount: int
    captured_at: dt.datetime


@dataclass(frozen=True)
class OfflineItemResult:
    client_uuid: str
    status: str  # pending / matched / flagged / error
    payment_id: int | None = None
    flag_reason: str = ""
    error_code: str = ""
    error_message: str = ""


def _item_result(row: OfflineConfirmation) -> OfflineItemResult:
    return OfflineItemResult(str(row.client_uuid), row.status, row.payment_id, row.flag_reason)


def _item_error(client_uuid: str, code: str, message: str) -> OfflineItemResult:
    return OfflineItemResult(client_uuid, "error", error_code=code, error_message=message)


@dataclass(frozen=True)
class Uploader:
    """Who sent an upload, for the confirmation-attempt log."""

    user: User | None = None
    remote_addr: str | None = None


def offline_confirmations_sync(
    *,
    vendor: Vendor,
    items: list[OfflineItem | OfflineItemResult],
    now: dt.datetime | None = None,
    uploader: Uploader | None = None,
) -> list[OfflineItemResult]:
    """Record confirmations a device verified offline; idempotent per client UUID.

    ``items`` may hold per-item validation errors already (from the API); they
    are passed through in place so that results line up with the upload.

    Each new item is checked against the vendor's codes as one confirmation
    attempt, under the same limit as online confirmation (5 failures per 15
    minutes, counted in ``ConfirmationAttempt``): a token holder cannot guess
    codes faster here than at ``/confirm/``. An item uploaded over the limit
    is never lost: it is kept pending, unchecked (``flag_reason``
    "throttled"), and the reconciliation checks it when the limit allows.
    """
    now = now or timezone.now()
    deadline = dt.timedelta(seconds=settings.OFFLINE_CONFIRMATION_DEADLINE_SECONDS)
    results: list[OfflineItemResult] = []
    for item in items:
        if isinstance(item, OfflineItemResult):
            results.append(item)
            continue
        if item.captured_at > now + CLOCK_SKEW:
            results.append(_item_error(str(item.client_uuid), "invalid_captured_at", "captured_at is in the future."))
            continue
        if item.captured_at < EARLIEST_CAPTURE:
            results.append(_item_error(str(item.client_uuid), "invalid_captured_at", "captured_at is before 2020."))
            continue
        results.append(
            _offline_record(vendor=vendor, item=item, now=now, deadline=deadline, uploader=uploader or Uploader())
        )
    return results


def _same_item(row: OfflineConfirmation, vendor: Vendor, item: OfflineItem) -> bool:
    return (
        row.vendor_id == vendor.pk
        and row.code == item.code
        and row.amount == item.amount
        and row.captured_at == item.captured_at
    )


def _offline_record(
    *, vendor: Vendor, item: OfflineItem, now: dt.datetime, deadline: dt.timedelta, uploader: Uploader
) -> OfflineItemResult:
    existing = OfflineConfirmation.objects.filter(client_uuid=item.client_uuid).first()
    if existing is None:
        try:
            with transaction.atomic():
                row = OfflineConfirmation(
                    client_uuid=item.client_uuid,
                    vendor=vendor,
                    code=item.code,
                    amount=item.amount,
                    captured_at=item.captured_at,
                    reconcile_by=item.captured_at + deadline,
                )
                row.full_clean(validate_unique=False)
                row.save()
                _offline_try_match(row=row, now=now, attempt_by=uploader)
            return _item_result(row)
        except IntegrityError:
            # The same upload in parallel: the other request recorded it first.
            existing = OfflineConfirmation.objects.get(client_uuid=item.client_uuid)
    if not _same_item(existing, vendor, item):
        return _item_error(
            str(item.client_uuid), "uuid_conflict", "This client_uuid was already used for a different confirmation."
        )
    return _item_result(existing)


def _offline_try_match(*, row: OfflineConfirmation, now: dt.datetime, attempt_by: Uploader | None = None) -> None:
    """Match a pending offline confirmation to its payment, flag it, or leave it pending.

    Called inside a transaction; the vendor row is locked so that an online
    confirmation of the same code cannot interleave (and so that parallel
    uploads cannot slip past the wrong-code limit). ``attempt_by`` (a first
    check: at upload, or of an item the limit left unchecked) makes the check
    a logged, counted confirmation attempt; rechecks by the reconciliation
    are not counted again.
    """
    vendor = _lock_vendor(row.vendor_id)
    at_upload = attempt_by is not None
    if attempt_by is None and row.flag_reason == THROTTLED_UNCHECKED:
        attempt_by = Uploader()  # never checked yet: this check counts
    attempt: ConfirmationAttempt | None = None
    if attempt_by is not None:
        attempt = ConfirmationAttempt(
            vendor=vendor,
            user=attempt_by.user,
            code_tail=codes.code_tail(row.code),
            amount=row.amount,
            remote_addr=attempt_by.remote_addr,
        )
        if _throttle_retry_after(vendor_id=vendor.pk, now=now):
            if at_upload:  # logged once, not at every reconciliation run
                attempt.outcome = ConfirmationAttempt.Outcome.THROTTLED
                attempt.save()
            held: dict[str, object] = {"flag_reason": THROTTLED_UNCHECKED}
            if row.reconcile_by <= now:  # out of time unchecked: the board looks at it
                held = {"status": OfflineConfirmation.Status.FLAGGED, "flag_reason": "too_many_wrong_codes"}
            _offline_update(row, held)
            return
    found = _find_code(vendor=vendor, code=row.code, amount=row.amount, at=row.captured_at)
    match: Match | None = None
    if found is not None:
        code_row, match = found
        if match == "ok" and not _mark_used(
            code=code_row,
            now=now,
            confirmed_at=row.captured_at,
            data={"via": "offline", "client_uuid": str(row.client_uuid)},
        ):
            match = "used"  # a parallel confirmation won
    if attempt is not None:
        Outcome = ConfirmationAttempt.Outcome
        outcomes = {"ok": Outcome.CONFIRMED, "used": Outcome.USED, "expired": Outcome.EXPIRED}
        attempt.outcome = Outcome.WRONG if match is None else outcomes[match]
        attempt.succeeded = attempt.outcome == Outcome.CONFIRMED
        attempt.payment_id = found[0].payment_id if found is not None else None
        attempt.save()
        if row.flag_reason == THROTTLED_UNCHECKED:
            _offline_update(row, {"flag_reason": ""})
    fields: dict[str, object]
    if found is not None:
        code_row = found[0]
        if match == "ok":
            fields = {"status": OfflineConfirmation.Status.MATCHED, "payment_id": code_row.payment_id}
        else:
            reason = "code_already_used" if match == "used" else "code_expired"
            fields = {
                "status": OfflineConfirmation.Status.FLAGGED,
                "payment_id": code_row.payment_id,
                "flag_reason": reason,
            }
    elif row.reconcile_by <= now:
        fields = {"status": OfflineConfirmation.Status.FLAGGED, "flag_reason": "no_matching_payment"}
    else:
        return
    _offline_update(row, fields)


def _offline_update(row: OfflineConfirmation, fields: dict[str, object]) -> None:
    """Apply ``fields`` to ``row`` if it is still pending (conditional UPDATE)."""
    if OfflineConfirmation.objects.filter(pk=row.pk, status=OfflineConfirmation.Status.PENDING).update(**fields):
        for name, value in fields.items():
            setattr(row, name, value)
    else:
        row.refresh_from_db()


def offline_confirmations_reconcile(
    *, vendor_id: int | None = None, now: dt.datetime | None = None, limit: int = 1000
) -> dict[str, int]:
    """Match pending offline confirmations whose payment has arrived; flag those past their deadline."""
    now = now or timezone.now()
    pending = OfflineConfirmation.objects.filter(status=OfflineConfirmation.Status.PENDING)
    if vendor_id is not None:
        pending = pending.filter(vendor_id=vendor_id)
    counts = {"matched": 0, "flagged": 0, "pending": 0}
    for row_id in pending.order_by("reconcile_by").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = OfflineConfirmation.objects.get(pk=row_id)
            if row.status != OfflineConfirmation.Status.PENDING:
                continue
            _offline_try_match(row=row, now=now)
        counts[row.status] += 1
    return counts
