"""Printable stall cards: an A6 card per vendor, or four to an A4 page.

A card carries the Chợ 4.0 header, the market, the vendor's name (with its
Vietnamese diacritics: the bundled DejaVu Sans has every Vietnamese glyph,
and names are NFC-normalised because reportlab does not position combining
marks), the stall, the static VietQR code, the bank and masked account, and
the 8-digit merchant code with how to pay by code entry without data.

The QR code is drawn as vector rectangles, one per horizontal run of dark
modules, written as raw PDF operators in a coordinate system of one unit per
module: sharp at any printer resolution, and about 0.3 ms per card where
reportlab's path objects took 20 ms. It is 64 mm wide with its 4-module
quiet zone (the issue asks for at least 35 mm), i.e. about 1.4 mm per module
for an alphanumeric-mode payload (version 5), well above what phone cameras
need at arm's length.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from django.conf import settings
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from chopay.identifiers import mask_account
from chopay.qr import QUIET_ZONE, QRMatrix, qr_matrix
from payments.cards.stall_qr import vendor_static_payload

if TYPE_CHECKING:
    from vendors.models import Vendor

__all__ = ["QR_SIZE_MM", "StallCard", "render_card_pdf", "render_cards_pdf", "stall_card"]

FONT_DIR: Final = Path(__file__).resolve().parent / "fonts"
REGULAR: Final = "Cho40Sans"
BOLD: Final = "Cho40Sans-Bold"

CARD_W, CARD_H = A6  # 105 × 148 mm
SHEET_W, SHEET_H = A4  # 210 × 297 mm: 2 × 2 cards
QR_SIZE_MM: Final = 64.0  # symbol plus quiet zone
MARGIN: Final = 7 * mm
GREEN: Final = HexColor("#0B6E4F")
GREY: Final = HexColor("#555555")
CUT_LINE: Final = Color(0.75, 0.75, 0.75)
PENDING_RED: Final = HexColor("#B3261E")
PENDING_MARK: Final = "CHỜ DUYỆT"


# Page streams are zlib-compressed; reportlab also wraps them in ASCII85 by
# default, which its pure-Python encoder makes the slowest step of a large
# batch (a fifth of the time) for a 25 % larger file. Binary streams are what
# every PDF reader expects. (A process-wide reportlab setting: nothing else in
# this project makes PDFs.)
rl_config.useA85 = 0


@functools.cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


@dataclass(frozen=True)
class StallCard:
    """Everything printed on one card, already formatted."""

    market_name: str
    vendor_name: str
    stall_label: str
    bank_short_name: str
    masked_account: str
    account_name: str
    merchant_code: str
    payload: str
    # Registered but not yet approved by the market board: printed, marked
    # "CHỜ DUYỆT" in a red header (docs/onboarding.md, "Volunteer pages").
    awaiting_approval: bool = False


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def stall_card(vendor: Vendor) -> StallCard:
    """The card of ``vendor`` (needs ``vendor.bank`` and ``vendor.market``; select them)."""
    return StallCard(
        market_name=_nfc(vendor.market.name),
        vendor_name=_nfc(vendor.full_name),
        stall_label=_nfc(vendor.stall_label),
        bank_short_name=vendor.bank.short_name,
        masked_account=mask_account(vendor.account_number),
        account_name=vendor.account_name,
        merchant_code=vendor.merchant_code,
        payload=vendor_static_payload(vendor),
        awaiting_approval=vendor.status == "pending",
    )


def code_entry_hint() -> str:
    """How to pay without data, under the merchant code. The USSD number is
    the aggregator's and is printed only when configured (``USSD_DIAL_CODE``)."""
    dial = getattr(settings, "USSD_DIAL_CODE", "")
    how = f"bấm {dial}" if dial else "gọi mã USSD thanh toán Chợ 4.0"
    return f"Điện thoại không có mạng? {how[0].upper()}{how[1:]}, nhập mã người bán ở trên rồi nhập số tiền."


# --------------------------------------------------------------------------
# Drawing


def _fit_size(text: str, font: str, width: float, largest: float, smallest: float) -> float:
    size = largest
    while size > smallest and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _ellipsize(text: str, font: str, size: float, width: float) -> str:
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _centred_line(
    c: Canvas, text: str, font: str, x: float, y: float, width: float, largest: float, smallest: float
) -> None:
    size = _fit_size(text, font, width, largest, smallest)
    c.setFont(font, size)
    c.drawCentredString(x + width / 2, y, _ellipsize(text, font, size, width))


def _draw_qr(c: Canvas, matrix: QRMatrix, x: float, y: float, size: float) -> None:
    """The symbol with its quiet zone in the ``size`` square at (x, y)."""
    modules = matrix.size + 2 * QUIET_ZONE
    unit = size / modules
    c.saveState()
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    # One unit per module, y downwards from the symbol's top-left corner, so
    # every rectangle is written in small integers.
    c.transform(unit, 0, 0, -unit, x + QUIET_ZONE * unit, y + size - QUIET_ZONE * unit)
    rects = " ".join(f"{col} {row} {length} 1 re" for row, col, length in matrix.dark_runs())
    c.addLiteral(rects + " f")
    c.restoreState()


def _draw_card(c: Canvas, card: StallCard, x0: float, y0: float) -> None:
    """One card with its bottom-left corner at (x0, y0)."""
    top = y0 + CARD_H
    inner = CARD_W - 2 * MARGIN
    left = x0 + MARGIN

    # Header band: programme and market; red and marked while the board has
    # not approved the registration.
    c.setFillColor(PENDING_RED if card.awaiting_approval else GREEN)
    c.rect(x0, top - 20 * mm, CARD_W, 20 * mm, stroke=0, fill=1)
    c.setFillColor(white)
    c.setFont(BOLD, 17)
    if card.awaiting_approval:
        c.drawString(left, top - 9.5 * mm, PENDING_MARK)
        c.setFont(REGULAR, 7.5)
        c.drawRightString(x0 + CARD_W - MARGIN, top - 9.5 * mm, "Ban quản lý chợ chưa duyệt")
    else:
        c.drawString(left, top - 9.5 * mm, "Chợ 4.0")
        c.setFont(REGULAR, 7.5)
        c.drawRightString(x0 + CARD_W - MARGIN, top - 9.5 * mm, "Thanh toán không dùng tiền mặt")
    _centred_line(c, card.market_name, REGULAR, left, top - 16.5 * mm, inner, 10, 7)

    # Vendor and stall.
    c.setFillColorRGB(0, 0, 0)
    name_size = _fit_size(card.vendor_name, BOLD, inner, 16, 11)
    lines = [card.vendor_name]
    if pdfmetrics.stringWidth(card.vendor_name, BOLD, name_size) > inner:
        name_size = 12
        lines = simpleSplit(card.vendor_name, BOLD, name_size, inner)[:2]
        if len(simpleSplit(card.vendor_name, BOLD, name_size, inner)) > 2:
            lines[1] = _ellipsize(lines[1] + " …", BOLD, name_size, inner)
    c.setFont(BOLD, name_size)
    line_y = top - (28 if len(lines) == 1 else 26.5) * mm
    for line in lines:
        c.drawCentredString(x0 + CARD_W / 2, line_y, _ellipsize(line, BOLD, name_size, inner))
        line_y -= name_size * 1.15
    if card.stall_label:
        _centred_line(c, f"Quầy {card.stall_label}", REGULAR, left, top - 37 * mm, inner, 10.5, 8)

    # The QR code.
    qr_size = QR_SIZE_MM * mm
    qr_y = top - 40 * mm - qr_size
    _draw_qr(c, qr_matrix(card.payload), x0 + (CARD_W - qr_size) / 2, qr_y, qr_size)
    c.setFillColor(GREY)
    _centred_line(c, "Quét mã bằng ứng dụng ngân hàng hoặc ví điện tử", REGULAR, left, qr_y - 3 * mm, inner, 7.5, 6)

    # Bank account, masked, and the holder's name as the bank shows it.
    c.setFillColorRGB(0, 0, 0)
    _centred_line(c, f"{card.bank_short_name}  {card.masked_account}", BOLD, left, qr_y - 8.5 * mm, inner, 10.5, 7)
    _centred_line(c, card.account_name, REGULAR, left, qr_y - 13 * mm, inner, 9, 6.5)

    # Merchant code for paying without data.
    box_top = qr_y - 15.5 * mm
    box_bottom = y0 + 4 * mm
    c.setStrokeColor(GREEN)
    c.setLineWidth(0.8)
    c.roundRect(left, box_bottom, inner, box_top - box_bottom, 2 * mm, stroke=1, fill=0)
    c.setFillColor(GREEN)
    c.setFont(REGULAR, 7.5)
    code = card.merchant_code
    c.drawString(left + 3 * mm, box_top - 5.5 * mm, "Mã người bán")
    c.setFont(BOLD, 17)
    c.drawRightString(left + inner - 3 * mm, box_top - 6.5 * mm, f"{code[:4]} {code[4:]}")
    c.setFillColorRGB(0, 0, 0)
    c.setFont(REGULAR, 6.8)
    hint_y = box_top - 11 * mm
    for line in simpleSplit(code_entry_hint(), REGULAR, 6.8, inner - 6 * mm)[:3]:
        c.drawString(left + 3 * mm, hint_y, line)
        hint_y -= 8.2


def _new_canvas(out: IO[bytes], *, size: tuple[float, float], title: str) -> Canvas:
    _register_fonts()
    c = Canvas(out, pagesize=size, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("Chợ 4.0")
    c.setCreator("Chợ 4.0")
    return c


def render_card_pdf(card: StallCard) -> bytes:
    """One A6 page: the card of one vendor."""
    out = BytesIO()
    c = _new_canvas(out, size=A6, title=f"Chợ 4.0 – {card.vendor_name}")
    _draw_card(c, card, 0, 0)
    c.showPage()
    c.save()
    return out.getvalue()


# Bottom-left corners of the four A6 cards on an A4 page, reading order.
_SLOTS: Final = (
    (0.0, SHEET_H / 2 + (SHEET_H / 2 - CARD_H) / 2),
    (SHEET_W / 2, SHEET_H / 2 + (SHEET_H / 2 - CARD_H) / 2),
    (0.0, (SHEET_H / 2 - CARD_H) / 2),
    (SHEET_W / 2, (SHEET_H / 2 - CARD_H) / 2),
)


def _draw_cut_lines(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(CUT_LINE)
    c.setLineWidth(0.3)
    c.setDash(2, 2)
    c.line(SHEET_W / 2, 0, SHEET_W / 2, SHEET_H)
    c.line(0, SHEET_H / 2, SHEET_W, SHEET_H / 2)
    c.restoreState()


def render_cards_pdf(
    cards: Iterable[StallCard],
    *,
    title: str,
    out: IO[bytes] | None = None,
    total: int | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> bytes | None:
    """Four cards per A4 page, with dashed cutting guides.

    Writes to ``out`` if given (and returns None), else returns the bytes.
    ``on_progress(done, total)`` is called after each card.
    """
    target: IO[bytes] = out if out is not None else BytesIO()
    c = _new_canvas(target, size=A4, title=title)
    done = 0
    for done, card in enumerate(cards, start=1):
        slot = (done - 1) % len(_SLOTS)
        if slot == 0:
            _draw_cut_lines(c)
        _draw_card(c, card, *_SLOTS[slot])
        if slot == len(_SLOTS) - 1:
            c.showPage()
        if on_progress is not None:
            on_progress(done, total)
    if done == 0 or done % len(_SLOTS):
        c.showPage()  # the last, partly filled page (or one blank page for no cards)
    c.save()
    if out is None:
        assert isinstance(target, BytesIO)
        return target.getvalue()
    return None


def cards_for(vendors: Sequence[Vendor] | Iterable[Vendor]) -> Iterable[StallCard]:
    return (stall_card(vendor) for vendor in vendors)
