"""The USSD menu as a pure function of the dialogue text (chopay.ussd): the
amount limits are the caller's (the rail's), not the menu's. No database."""

from __future__ import annotations

from chopay import ussd
from chopay.identifiers import damm_check_digit

BODY = "1234567"
CODE = BODY + damm_check_digit(BODY)
CARD = ussd.vendor_card(
    id=7, merchant_code=CODE, full_name="Nguyễn Thị Hồng", market_name="Chợ Đồng Xuân", stall_label="A-12"
)
SANDBOX = ussd.AmountLimits(min_amount=1_000, max_amount=10_000_000)
STRICT = ussd.AmountLimits(min_amount=5_000, max_amount=500_000)


def find(code: str) -> ussd.VendorCard | None:
    return CARD if code == CODE else None


def test_it_walks_to_payment_within_the_limits() -> None:
    d = ussd.walk(f"{CODE}*1*20000*1", find_vendor=find, limits=SANDBOX)
    assert (d.step, d.vendor, d.amount) == (ussd.Step.PAY, CARD, 20_000)


def test_it_refuses_amounts_outside_the_limits_it_is_given() -> None:
    # 2,000 đồng is fine for the sandbox wallet but below a stricter rail's minimum.
    assert ussd.walk(f"{CODE}*1*2000", find_vendor=find, limits=SANDBOX).step is ussd.Step.CONFIRM_PAYMENT
    strict = ussd.walk(f"{CODE}*1*2000", find_vendor=find, limits=STRICT)
    assert strict.step is ussd.Step.ASK_AMOUNT
    assert ussd.screen(strict).wire == "CON Toi thieu 5.000d.\nNhap so tien (dong):"

    too_much = ussd.walk(f"{CODE}*1*600000", find_vendor=find, limits=STRICT)
    assert ussd.screen(too_much).text.startswith("Toi da 500.000d.")
    assert ussd.walk(f"{CODE}*1*600000", find_vendor=find, limits=SANDBOX).amount == 600_000


def test_it_shows_the_vendor_folded_to_ascii() -> None:
    reply = ussd.screen(ussd.walk(CODE, find_vendor=find, limits=SANDBOX))
    assert reply.wire == "CON Nguoi ban: Nguyen Thi Hong (A-12)\nCho: Cho Dong Xuan\n1. Dong y\n2. Huy"
    assert len(reply.wire) <= ussd.MAX_SCREEN


def test_it_ends_the_session_after_too_many_wrong_answers() -> None:
    d = ussd.walk("*".join(["00000000"] * (ussd.MAX_WRONG_ANSWERS + 1)), find_vendor=find, limits=SANDBOX)
    assert d.step is ussd.Step.TOO_MANY_ERRORS
    assert ussd.screen(d).wire == "END Nhap sai qua nhieu lan. Vui long thu lai sau."
