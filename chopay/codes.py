"""Confirmation codes for code-entry payments: HOTP bound to the amount.

After a payment made by code entry (USSD), customer and vendor both receive a
6-digit code by SMS. The vendor checks the code the customer shows them, online
(``POST /api/v1/payments/confirm/``) or offline on their own device, which holds
the vendor's key. The algorithm is RFC 4226 (HOTP) with two documented changes,
so that any phone can re-implement it in a few lines:

1. The HMAC is HMAC-SHA256 (as RFC 6238 allows) instead of HMAC-SHA1, keyed by
   the vendor's 32-byte secret (``Vendor.code_secret``, hex).
2. The message is 16 bytes instead of 8: the counter as an unsigned 64-bit
   big-endian integer followed by the amount in đồng, also unsigned 64-bit
   big-endian. A code issued for 20,000₫ therefore does not verify for 200,000₫.

Dynamic truncation is RFC 4226 §5.3 unchanged: ``offset`` is the low 4 bits of
the last byte of the digest; the 4 bytes from ``offset``, with the top bit
cleared, as a big-endian integer, modulo 10**6, zero-padded to 6 digits.

Worked example (also a test): key = bytes 0x00…0x1f, counter 1, amount 20,000
→ ``TEST_VECTOR_CODE``. See docs/code-entry.md.

Pure functions, no Django: the vendor app's developers can read this file alone.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Final

DIGITS: Final = 6
ALGORITHM: Final = "HMAC-SHA256"
# How many counters past the last one it has seen a device tries (RFC 4226 §7.4
# "look-ahead"). Each extra counter adds one chance in a million for a random
# guess, so the window stays small.
LOOK_AHEAD: Final = 10

TEST_VECTOR_KEY_HEX: Final = bytes(range(32)).hex()
TEST_VECTOR_COUNTER: Final = 1
TEST_VECTOR_AMOUNT: Final = 20_000
TEST_VECTOR_CODE: Final = "605024"

_U64_MAX: Final = 2**64 - 1


def hotp(key: bytes, message: bytes, *, digits: int = DIGITS, digestmod: str = "sha256") -> str:
    """RFC 4226 HOTP over an arbitrary message (RFC 4226 itself uses the 8-byte counter)."""
    digest = hmac.new(key, message, digestmod).digest()
    offset = digest[-1] & 0x0F
    binary = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(binary % 10**digits).zfill(digits)


def message_for(counter: int, amount: int) -> bytes:
    """The 16 signed bytes: counter and amount, each unsigned 64-bit big-endian."""
    if not 0 <= counter <= _U64_MAX:
        raise ValueError("counter out of range")
    if not 0 < amount <= _U64_MAX:
        raise ValueError("amount must be a positive number of đồng")
    return counter.to_bytes(8, "big") + amount.to_bytes(8, "big")


def confirmation_code(key: bytes, *, counter: int, amount: int) -> str:
    """The 6-digit code for the payment of ``amount`` đồng at ``counter``."""
    return hotp(key, message_for(counter, amount))


def key_from_hex(secret_hex: str) -> bytes:
    return bytes.fromhex(secret_hex)


def is_well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def code_matches(key: bytes, code: str, *, counter: int, amount: int) -> bool:
    """Constant-time comparison, so timing does not leak how many digits match."""
    return is_well_formed(code) and hmac.compare_digest(confirmation_code(key, counter=counter, amount=amount), code)


def find_counter(key: bytes, code: str, *, amount: int, counters: Iterable[int]) -> int | None:
    """The first counter among ``counters`` at which ``code`` is the code for
    ``amount``; None if there is none. What a vendor's device does offline with
    ``counters = range(last_seen + 1, last_seen + 1 + LOOK_AHEAD)``."""
    if not is_well_formed(code):
        return None
    for counter in counters:
        if code_matches(key, code, counter=counter, amount=amount):
            return counter
    return None


def code_tail(code: str) -> str:
    """The last two digits: what the audit log keeps of a code, never the whole."""
    return code[-2:] if is_well_formed(code) else ""
