"""The directory of Vietnamese banks by NAPAS acquirer BIN.

The list ships with the library (``chopay/data/banks.json``, as published in
the VietQR bank list), so that a VietQR payload's ``bank_bin`` can be named
without a database. ``market`` loads the same file into its ``Bank`` table.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

__all__ = ["Bank", "bank_by_bin", "banks"]


@dataclass(frozen=True)
class Bank:
    bin: str  # 6-digit NAPAS acquirer BIN, tag 38.01.00 of a VietQR payload
    code: str  # e.g. "VCB"
    short_name: str  # e.g. "Vietcombank"
    name: str  # full legal name, in Vietnamese


@functools.cache
def banks() -> tuple[Bank, ...]:
    """Every bank of the shipped list, in its order."""
    text = resources.files("chopay").joinpath("data/banks.json").read_text(encoding="utf-8")
    return tuple(Bank(bin_, code, short, name) for bin_, code, short, name in json.loads(text)["banks"])


def bank_by_bin(bank_bin: str) -> Bank | None:
    """The bank with this BIN, or ``None`` when the list does not know it."""
    return _by_bin().get(bank_bin)


@functools.cache
def _by_bin() -> dict[str, Bank]:
    return {bank.bin: bank for bank in banks()}
