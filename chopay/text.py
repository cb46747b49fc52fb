"""ASCII folding of Vietnamese text.

VietQR fields, SMS texts for feature phones (GSM 7-bit) and USSD screens all
want printable ASCII; bank transfer contents arrive folded by the banks. One
function folds them all the same way, so that what is written and what is
matched agree.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["fold_ascii"]


# Characters NFD does not decompose, mapped to one character each so that
# folding never makes a field longer than the input.
_FOLD_MAP: Final[dict[str, str]] = {
    "đ": "d",
    "Đ": "D",
    "Ð": "D",  # U+00D0 Eth, often typed in place of Đ
    "ð": "d",
    "Ɖ": "D",  # U+0189 African D, another look-alike of Đ
    "ɖ": "d",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
}


def _make_fold_table() -> dict[int, str | None]:
    # Whitespace other than the space (tab, newline, NBSP, ideographic
    # space...) becomes a space and every other control character goes.
    # No whitespace character lies above U+3000.
    table: dict[int, str | None] = {code: None for code in (*range(0x20), *range(0x7F, 0xA0))}
    table.update({code: " " for code in range(0x3001) if chr(code).isspace() and code != 0x20})
    table.update({ord(char): ascii_char for char, ascii_char in _FOLD_MAP.items()})
    return table


_FOLD_TABLE: Final = _make_fold_table()
# str.translate with a dict costs a Python-level lookup per character, several
# times the rest of the folding, so it only runs when one of these is present.
# đ and Đ, by far the most frequent, are handled with str.replace instead.
_FOLD_RARE: Final = frozenset(map(chr, _FOLD_TABLE)) - {"đ", "Đ"}


def fold_ascii(text: str) -> str:
    """Fold Vietnamese (and other Latin) text to printable ASCII.

    Diacritics are removed through NFD ("Thanh toán đơn hàng" →
    "Thanh toan don hang"), đ/Đ become d/D, typographic quotes and dashes
    become their ASCII forms, every whitespace character becomes a space and
    anything else outside printable ASCII (emoji, CJK, control characters) is
    dropped. The result is never longer than the input. Spaces are neither
    stripped nor collapsed; see ``fit_purpose`` for that.
    """
    if text.isascii() and text.isprintable():
        return text
    if "đ" in text or "Đ" in text:
        text = text.replace("đ", "d").replace("Đ", "D")
    if not _FOLD_RARE.isdisjoint(text):
        text = text.translate(_FOLD_TABLE)
    # NFD splits "ế" into "e" and combining marks; encoding to ASCII with
    # "ignore" then drops those marks and anything else outside ASCII.
    return unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode("ascii")
