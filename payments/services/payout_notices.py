"""SMS to a trader about a change of their payout account.

``vendors`` records the change (``vendors.services.payout_change_*``) and
calls the function named by ``settings.PAYOUT_CHANGE_NOTIFIER`` — this one —
inside its transaction, so the SMS is queued in the outbox exactly when the
change is recorded. It lives here because SMS belongs to ``payments``, which
builds on ``vendors``; the reverse import would tie the lower app to the
higher one.

Like the other SMS of the project the text is folded to ASCII (every phone
shows it, and one message holds 160 characters instead of 70), and never
carries the full new account number: whoever reads the SMS over the trader's
shoulder learns only its last four digits.
"""

from __future__ import annotations

from payments import ussd
from payments.services.sms import outbound_sms_queue
from vendors.models import PayoutAccountChange

Outcome = PayoutAccountChange.Outcome


def mask_account(account_number: str) -> str:
    """``1012345678`` → ``***5678``."""
    return "***" + account_number[-4:]


def payout_change_sms_body(change: PayoutAccountChange) -> str:
    vendor = change.vendor
    new = f"{ussd.short(change.new_bank.short_name, 16)} {mask_account(change.new_account_number)}"
    stall = f"quay {vendor.merchant_code}"
    if change.outcome == Outcome.PENDING:
        return (
            f"Cho 4.0: Co yeu cau doi tai khoan nhan tien cua {stall} sang {new}, cho Ban quan ly cho duyet. "
            "Tien van vao tai khoan cu. Neu ban khong yeu cau, bao ngay Ban quan ly cho."
        )
    if change.outcome == Outcome.APPROVED:
        if change.decided_by_id is not None and change.decided_by_id == change.requested_by_id:
            return (
                f"Cho 4.0: Ban quan ly cho da doi tai khoan nhan tien cua {stall} sang {new}. "
                "Neu khong dung, bao ngay Ban quan ly cho."
            )
        return (
            f"Cho 4.0: Da duyet doi tai khoan nhan tien cua {stall} sang {new}. "
            "Tu nay ma QR tra tien vao tai khoan moi."
        )
    if change.outcome == Outcome.REJECTED:
        return (
            f"Cho 4.0: Yeu cau doi tai khoan nhan tien cua {stall} sang {new} bi tu choi: "
            f"{ussd.short(change.decision_reason, 80)}. Tien van vao tai khoan cu."
        )
    return f"Cho 4.0: Yeu cau doi tai khoan nhan tien cua {stall} sang {new} da huy. Tien van vao tai khoan cu."


def payout_change_notify(*, change: PayoutAccountChange) -> None:
    """Queue the SMS to the phone on record (the vendor row's, unchanged by the payout change)."""
    outbound_sms_queue(to=change.vendor.phone, body=payout_change_sms_body(change))
