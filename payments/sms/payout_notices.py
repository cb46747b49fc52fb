"""SMS to a trader about a change of their payout account.

``vendors`` records the change (``vendors.payout_changes.payout_change_*``) and
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

from chopay import ussd
from payments.sms.services import outbound_sms_queue
from vendors.models import PayoutAccountChange

Outcome = PayoutAccountChange.Outcome


def mask_account(account_number: str) -> str:
    """``1012345678`` → ``***5678``."""
    return "***" + account_number[-4:]


def payout_change_sms_body(change: PayoutAccountChange) -> str:
    """At most 160 ASCII characters: one SMS segment, as the other SMS of the project."""
    new = f"{ussd.short(change.new_bank.short_name, 16)} {mask_account(change.new_account_number)}"
    head = f"Cho 4.0: Quay {change.vendor.merchant_code}"
    if change.outcome == Outcome.PENDING:
        return (
            f"{head} co yeu cau doi TK nhan tien sang {new}, cho BQL cho duyet; tien van vao TK cu. "
            "Ban khong yeu cau? Bao ngay BQL cho."
        )
    if change.outcome == Outcome.APPROVED:
        if change.decided_by_id is not None and change.decided_by_id == change.requested_by_id:
            return f"{head}: BQL cho da doi TK nhan tien sang {new}. Khong dung? Bao ngay BQL cho."
        return f"{head}: da duyet doi TK nhan tien sang {new}. Tu nay QR tra tien vao TK moi."
    if change.outcome == Outcome.REJECTED:
        return (
            f"{head}: tu choi doi TK nhan tien sang {new}: {ussd.short(change.decision_reason, 50)}. "
            "Tien van vao TK cu."
        )
    return f"{head}: da huy yeu cau doi TK nhan tien sang {new}. Tien van vao TK cu."


def payout_change_notify(*, change: PayoutAccountChange) -> None:
    """Queue the SMS to the phone on record (the vendor row's, unchanged by the payout change)."""
    outbound_sms_queue(to=change.vendor.phone, body=payout_change_sms_body(change))
