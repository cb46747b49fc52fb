"""The USSD menu for paying a vendor without mobile data.

Aggregators follow the Africa's Talking convention: every step of a session
POSTs the whole dialogue so far in ``text``, the answers joined by ``*``
("" on the first screen, then "CODE", "CODE*1", "CODE*1*AMOUNT",
"CODE*1*AMOUNT*1"). So the menu is a pure function of ``text``: ``walk`` folds
the answers through the states, a wrong answer keeps the state and adds a
reason, and ``screen`` renders where the walk ended. Nothing here touches the
database except through the ``find_vendor`` callable; the payment itself is
made by the caller (``payments.code_entry.ussd_payments``).

The amounts a customer may pay are the mobile-money rail's, passed in as
``AmountLimits`` by the caller (each rail has its own), never fixed here.

Screens are Vietnamese without diacritics (GSM 7-bit; feature phones render
accents badly) and each fits one USSD page: at most 160 characters including
the ``CON ``/``END `` prefix. Names are folded and cut to fit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from chopay.identifiers import MERCHANT_CODE_LENGTH, is_valid_merchant_code
from chopay.text import fold_ascii

MAX_SCREEN: Final = 160
MAX_WRONG_ANSWERS: Final = 3  # to one question; then the session ends
MAX_TEXT_LENGTH: Final = 200
_NAME_WIDTH: Final = 24
_STALL_WIDTH: Final = 10


class Step(enum.Enum):
    ASK_CODE = "ask_code"
    CONFIRM_VENDOR = "confirm_vendor"
    ASK_AMOUNT = "ask_amount"
    CONFIRM_PAYMENT = "confirm_payment"
    PAY = "pay"  # the customer confirmed: the caller makes the payment
    CANCELLED = "cancelled"
    TOO_MANY_ERRORS = "too_many_errors"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class AmountLimits:
    """The smallest and largest amount (đồng) the menu accepts: the rail's
    limits, checked before any charge is attempted."""

    min_amount: int
    max_amount: int


@dataclass(frozen=True)
class VendorCard:
    """What the menu shows of a vendor (already folded and cut)."""

    id: int
    merchant_code: str
    name: str
    market: str
    stall: str


@dataclass(frozen=True)
class Dialogue:
    step: Step = Step.ASK_CODE
    vendor: VendorCard | None = None
    amount: int | None = None
    reason: str = ""  # why the last answer was refused; shown above the question
    wrong_answers: int = 0  # to the current question


@dataclass(frozen=True)
class Reply:
    text: str
    end: bool

    @property
    def wire(self) -> str:
        """The body the aggregator expects: ``CON …`` keeps the session open, ``END …`` closes it."""
        return ("END " if self.end else "CON ") + self.text


# --- Texts (docs/code-entry.md lists every screen; keep them in step) ---------

TITLE: Final = "Cho 4.0 - Thanh toan"
ASK_CODE: Final = f"Nhap ma nguoi ban ({MERCHANT_CODE_LENGTH} so):"
ASK_AMOUNT: Final = "Nhap so tien (dong):"
REASON_BAD_CODE: Final = "Ma sai, kiem tra lai."
REASON_UNKNOWN_VENDOR: Final = "Khong tim thay nguoi ban."
REASON_CHOOSE: Final = "Chon 1 hoac 2."
REASON_NOT_DIGITS: Final = "So tien chi gom chu so."
CANCELLED: Final = "Da huy. Ban khong bi tru tien."
TOO_MANY_ERRORS: Final = "Nhap sai qua nhieu lan. Vui long thu lai sau."
TOO_LONG: Final = "Phien qua dai. Vui long thu lai."
BAD_PHONE: Final = "So dien thoai khong duoc ho tro."
SESSION_MISMATCH: Final = "Phien khong hop le."
PENDING: Final = "Giao dich dang xu ly. Ban se nhan SMS khi co ket qua."
_DECLINE_REASONS: Final = {"insufficient_funds": "khong du so du", "timeout": "qua thoi gian"}


def format_amount(amount: int) -> str:
    """20000 → ``20.000d``: Vietnamese thousands separator, folded đ."""
    return f"{amount:,}".replace(",", ".") + "d"


def reason_too_small(limits: AmountLimits) -> str:
    return f"Toi thieu {format_amount(limits.min_amount)}."


def reason_too_large(limits: AmountLimits) -> str:
    return f"Toi da {format_amount(limits.max_amount)}."


def short(text: str, width: int) -> str:
    """Fold to ASCII, collapse spaces, and cut to ``width`` with a ``.`` mark."""
    folded = " ".join(fold_ascii(text).split())
    return folded if len(folded) <= width else folded[: width - 1].rstrip() + "."


def vendor_card(*, id: int, merchant_code: str, full_name: str, market_name: str, stall_label: str) -> VendorCard:
    return VendorCard(
        id=id,
        merchant_code=merchant_code,
        name=short(full_name, _NAME_WIDTH),
        market=short(market_name, _NAME_WIDTH),
        stall=short(stall_label, _STALL_WIDTH),
    )


# --- The walk -----------------------------------------------------------------


def answers_of(text: str) -> list[str]:
    return [] if text == "" else [answer.strip() for answer in text.split("*")]


def _wrong(d: Dialogue, reason: str) -> Dialogue:
    wrong = d.wrong_answers + 1
    if wrong > MAX_WRONG_ANSWERS:
        return replace(d, step=Step.TOO_MANY_ERRORS, reason="", wrong_answers=wrong)
    return replace(d, reason=reason, wrong_answers=wrong)


def _parse_amount(answer: str, limits: AmountLimits) -> int | str:
    """The amount in đồng, or the reason it is refused."""
    if not answer.isascii() or not answer.isdigit():
        return REASON_NOT_DIGITS
    # Cut leading zeros and refuse absurd lengths before int() sees them.
    digits = answer.lstrip("0")
    if len(digits) > len(str(limits.max_amount)):
        return reason_too_large(limits)
    amount = int(digits or "0")
    if amount < limits.min_amount:
        return reason_too_small(limits)
    if amount > limits.max_amount:
        return reason_too_large(limits)
    return amount


def step(
    d: Dialogue, answer: str, *, find_vendor: Callable[[str], VendorCard | None], limits: AmountLimits
) -> Dialogue:
    """One answer applied to the dialogue."""
    if d.step is Step.ASK_CODE:
        # The check digit catches typos before any database lookup.
        if not is_valid_merchant_code(answer):
            return _wrong(d, REASON_BAD_CODE)
        card = find_vendor(answer)
        if card is None:
            return _wrong(d, REASON_UNKNOWN_VENDOR)
        return replace(d, step=Step.CONFIRM_VENDOR, vendor=card, reason="", wrong_answers=0)
    if d.step is Step.CONFIRM_VENDOR:
        if answer == "1":
            return replace(d, step=Step.ASK_AMOUNT, reason="", wrong_answers=0)
        if answer == "2":
            return replace(d, step=Step.CANCELLED, reason="")
        return _wrong(d, REASON_CHOOSE)
    if d.step is Step.ASK_AMOUNT:
        parsed = _parse_amount(answer, limits)
        if isinstance(parsed, str):
            return _wrong(d, parsed)
        return replace(d, step=Step.CONFIRM_PAYMENT, amount=parsed, reason="", wrong_answers=0)
    if d.step is Step.CONFIRM_PAYMENT:
        if answer == "1":
            return replace(d, step=Step.PAY, reason="")
        if answer == "2":
            return replace(d, step=Step.CANCELLED, reason="")
        return _wrong(d, REASON_CHOOSE)
    # PAY and the END states absorb anything a confused aggregator appends.
    return d


def walk(text: str, *, find_vendor: Callable[[str], VendorCard | None], limits: AmountLimits) -> Dialogue:
    """Where the whole ``text`` of a session leads, amounts checked against ``limits``."""
    if len(text) > MAX_TEXT_LENGTH:
        return Dialogue(step=Step.TOO_LONG)
    d = Dialogue()
    for answer in answers_of(text):
        d = step(d, answer, find_vendor=find_vendor, limits=limits)
        if d.step in (Step.PAY, Step.CANCELLED, Step.TOO_MANY_ERRORS):
            break
    return d


# --- Screens ------------------------------------------------------------------


def _fit(text: str, *, end: bool) -> Reply:
    # Names are cut so that this never bites; it guards a future text change.
    return Reply(text[: MAX_SCREEN - len("END ")], end)


def _with_reason(reason: str, question: str) -> str:
    return f"{reason}\n{question}" if reason else question


def screen(d: Dialogue) -> Reply:
    """The reply for a dialogue that has not reached payment."""
    if d.step is Step.ASK_CODE:
        return _fit(_with_reason(d.reason or TITLE, ASK_CODE), end=False)
    if d.step is Step.CONFIRM_VENDOR:
        assert d.vendor is not None
        v = d.vendor
        stall = f" ({v.stall})" if v.stall else ""
        body = f"Nguoi ban: {v.name}{stall}\nCho: {v.market}\n1. Dong y\n2. Huy"
        return _fit(_with_reason(d.reason, body), end=False)
    if d.step is Step.ASK_AMOUNT:
        return _fit(_with_reason(d.reason, ASK_AMOUNT), end=False)
    if d.step is Step.CONFIRM_PAYMENT:
        assert d.vendor is not None and d.amount is not None
        body = f"Tra {format_amount(d.amount)} cho {d.vendor.name} - {d.vendor.market}?\n1. Xac nhan\n2. Huy"
        return _fit(_with_reason(d.reason, body), end=False)
    if d.step is Step.CANCELLED:
        return _fit(CANCELLED, end=True)
    if d.step is Step.TOO_MANY_ERRORS:
        return _fit(TOO_MANY_ERRORS, end=True)
    if d.step is Step.TOO_LONG:
        return _fit(TOO_LONG, end=True)
    raise ValueError(f"no screen for {d.step}: the payment decides it")


def succeeded_screen(*, amount: int, vendor_name: str, transaction_id: str) -> Reply:
    return _fit(
        f"Da tra {format_amount(amount)} cho {short(vendor_name, _NAME_WIDTH)}.\n"
        f"Ma xac nhan da gui qua SMS.\nMa GD: {transaction_id[:24]}",
        end=True,
    )


def declined_screen(*, reason: str) -> Reply:
    why = _DECLINE_REASONS.get(reason, "bi tu choi")
    return _fit(f"Giao dich khong thanh cong: {why}.\nBan khong bi tru tien.", end=True)


def pending_screen() -> Reply:
    return _fit(PENDING, end=True)


def message_screen(text: str) -> Reply:
    return _fit(text, end=True)
