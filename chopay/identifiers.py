"""Identifiers that people type: Vietnamese mobile numbers, merchant codes and
sale references.

Merchant codes are typed by customers on feature phones, so they carry a Damm
check digit: it detects every single-digit error and every transposition of
two adjacent digits, with no letters (unlike ISO 7064 mod 11-10's "X").
"""

from __future__ import annotations

import re
import secrets
from typing import Final

# Damm's totally anti-symmetric quasigroup of order 10.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

MERCHANT_CODE_LENGTH = 8  # 7 random digits + 1 check digit: 9 million codes
_ASCII_DIGITS = re.compile(r"^[0-9]*\Z")


def damm_check_digit(digits: str) -> str:
    """The check digit of ``digits`` (ASCII 0-9 only; anything else is a ValueError)."""
    if not _ASCII_DIGITS.match(digits):
        raise ValueError(f"not ASCII digits: {digits!r}")
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return str(interim)


def is_valid_merchant_code(code: str) -> bool:
    # Not str.isdigit(): it accepts "²", "１" and other digits nobody types on a keypad.
    if len(code) != MERCHANT_CODE_LENGTH or not _ASCII_DIGITS.match(code):
        return False
    return damm_check_digit(code) == "0"


def generate_merchant_code() -> str:
    """A random code; callers retry on the (rare) unique-constraint collision.

    Random rather than sequential so that neighbours' codes cannot be guessed
    from one's own; the first digit is never 0 so that spreadsheets keep it.
    """
    body = str(secrets.randbelow(9_000_000) + 1_000_000)
    return body + damm_check_digit(body)


# Mobile prefixes after the 2018 renumbering (Viettel 03x/086/096-098, Vinaphone
# 08[1-5]/088/091/094, MobiFone 070/07[6-9]/089/090/093, Vietnamobile 052/056/058/092,
# Gmobile 059/099, Itel 087, Reddi 055).
# [0-9], not \d: \d matches any Unicode digit ("３", "٣"), which would be stored as is.
_MOBILE = re.compile(r"^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$")
_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_vn_mobile(raw: str) -> str | None:
    """Return the number as E.164 (``+84912345678``), or None if it is not a
    Vietnamese mobile number. Accepts 0912 345 678, 84912345678, +84 912-345-678."""
    number = _SEPARATORS.sub("", raw or "")
    if number.startswith("+84"):
        number = "0" + number[3:]
    elif number.startswith("84") and len(number) == 11:
        number = "0" + number[2:]
    if not _MOBILE.match(number):
        return None
    return "+84" + number[1:]


def display_vn_mobile(e164: str) -> str:
    """``+84912345678`` → ``0912 345 678`` as people write it."""
    if not e164.startswith("+84") or len(e164) != 12:
        return e164
    local = "0" + e164[3:]
    return f"{local[:4]} {local[4:7]} {local[7:]}"


def mask_account(account_number: str) -> str:
    """Show only the last four characters, as printed on a stall card."""
    if len(account_number) <= 4:
        return account_number
    return "•" * (len(account_number) - 4) + account_number[-4:]


# --- Sale references -------------------------------------------------------------

# No look-alikes, since people read references off receipts and SMS and type
# them into complaint forms: no 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 8/B, U/V. Without
# 0, O, 1 and I a reference can never be part of the "CHO40" prefix either.
REFERENCE_LETTERS: Final = "ACEFGHKMNPRTWXY"
REFERENCE_ALPHABET: Final = REFERENCE_LETTERS + "34679"
# 15 × 20⁹ ≈ 7.7 × 10¹² references: collisions are rare, and caught anyway.
# Always starting with a letter, it cannot be mistaken for a merchant code.
REFERENCE_LENGTH: Final = 10


def new_reference() -> str:
    """A random sale reference (``K7QX3MZP2A``); callers retry on the rare collision."""
    return secrets.choice(REFERENCE_LETTERS) + "".join(
        secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH - 1)
    )
