"""The ``CHO40 …`` payment text: written into the QR codes, read back from bank credits.

Both kinds of QR this project prints pay straight into the vendor's own bank
account (service ``QRIBFTTA``, the vendor's bank BIN and account number); the
money never passes through the programme. What lets a bank credit be
attributed afterwards is the purpose (tag 62.08), which most bank apps copy
into the transfer content:

- static stall QR: ``CHO40 <merchant code>`` (e.g. ``CHO40 12345674``), no
  amount: the customer types the amount;
- sale QR: ``CHO40 <reference>`` (e.g. ``CHO40 K7QX3MZP2A``) with the amount,
  the reference also in the bill number (tag 62.01).

Everything written is upper-case ASCII letters, digits and spaces, so the QR
symbol is encoded in the compact alphanumeric mode (see ``chopay.qr``).

Banks prefix, truncate, upper-case and drop spaces, so the reading side is
lenient: a reference is looked for in the content folded to ``A-Z0-9``
(every stretch of the reference alphabet's shape, starting with a letter); a
merchant code after a ``CHO40`` prefix however it is spaced
(``CHO 4.0-12345674``, ``CHO4012345674``), then as a bare 8-digit number,
either only when its Damm check digit is right.
"""

from __future__ import annotations

import re
from typing import Final

from chopay import vietqr
from chopay.identifiers import (
    MERCHANT_CODE_LENGTH,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    REFERENCE_LETTERS,
    is_valid_merchant_code,
)
from chopay.text import fold_ascii

__all__ = [
    "PURPOSE_PREFIX",
    "SERVICE_CODE",
    "merchant_code_candidates",
    "normalize_content",
    "reference_candidates",
    "sale_payload",
    "sale_purpose",
    "static_payload",
    "static_purpose",
]

PURPOSE_PREFIX: Final = "CHO40"
SERVICE_CODE: Final = "QRIBFTTA"  # transfer to a bank account

# Where a sale reference may start in the folded content: a letter, then the
# rest of the reference alphabet (overlapping matches, hence the lookahead).
_REFERENCE = re.compile(rf"(?=([{REFERENCE_LETTERS}][{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH - 1}}}))")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
# "CHO40 12345674", "CHO 4.0-12345674", "CHO4012345674" (spaces dropped by the bank).
_PREFIXED_CODE = re.compile(rf"CHO\W*4\W*0\W*(\d{{{MERCHANT_CODE_LENGTH}}})")
_BARE_CODE = re.compile(rf"(?<!\d)(\d{{{MERCHANT_CODE_LENGTH}}})(?!\d)")


# --- writing -----------------------------------------------------------------------


def static_purpose(merchant_code: str) -> str:
    """``CHO40 12345674``: what a static stall QR puts in the transfer content."""
    return f"{PURPOSE_PREFIX} {merchant_code}"


def sale_purpose(reference: str) -> str:
    """``CHO40 K7QX3MZP2A``: what a sale QR puts in the transfer content."""
    return f"{PURPOSE_PREFIX} {reference}"


def static_payload(*, bank_bin: str, account_number: str, merchant_code: str) -> str:
    """The static VietQR payload printed at a stall (no amount).

    Raises ``vietqr.VietQRError`` if the bank data cannot be encoded.
    """
    return vietqr.encode(
        vietqr.VietQR(
            bank_bin=bank_bin,
            account_number=account_number,
            service_code=SERVICE_CODE,
            purpose=static_purpose(merchant_code),
        )
    )


def sale_payload(*, bank_bin: str, account_number: str, amount: int, reference: str) -> str:
    """The dynamic VietQR payload of one sale: ``amount`` đồng, the reference
    in both the bill number and the purpose."""
    return vietqr.encode(
        vietqr.VietQR(
            bank_bin=bank_bin,
            account_number=account_number,
            service_code=SERVICE_CODE,
            amount=amount,
            bill_number=reference,
            purpose=sale_purpose(reference),
        )
    )


# --- reading -----------------------------------------------------------------------


def normalize_content(text: str) -> str:
    """Upper-case ASCII letters and digits only: "Chợ 40 ab-12" → "CHO40AB12"."""
    return _NOT_ALNUM.sub("", fold_ascii(text).upper())


def reference_candidates(text: str) -> set[str]:
    """Every stretch of the folded content that is shaped like a sale
    reference (``chopay.identifiers.new_reference``)."""
    return set(_REFERENCE.findall(normalize_content(text)))


def merchant_code_candidates(text: str) -> list[str]:
    """Valid merchant codes in ``text``: those after a "CHO40" prefix first,
    then bare 8-digit numbers. The Damm check digit rejects 9 in 10 random numbers."""
    upper = fold_ascii(text).upper()
    codes: list[str] = []
    for match in (*_PREFIXED_CODE.finditer(upper), *_BARE_CODE.finditer(upper)):
        code = match.group(1)
        if code not in codes and is_valid_merchant_code(code):
            codes.append(code)
    return codes
