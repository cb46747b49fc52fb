"""The QR symbol (chopay.qr): module for module the same as the ``qrcode``
library's own ``make(fit=True)``, only faster. No database."""

from __future__ import annotations

import random
import string

import pytest
import qrcode

from chopay import vietqr
from chopay.qr import qr_matrix

# --- the symbol, compared with the qrcode library -------------------------------------

_EC = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def _reference(payload: str, level: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_EC[level], border=0)
    code.add_data(payload, optimize=0)
    code.make(fit=True)
    return code


def _samples() -> list[str]:
    rng = random.Random(7)
    samples = ["1", "0123456789", "HELLO WORLD", "lower case", "Thanh toán đơn hàng", "A" * 250, "9" * 500]
    for _ in range(12):
        samples.append(
            vietqr.encode(
                vietqr.VietQR(
                    bank_bin=rng.choice(["970436", "970422", "970403"]),
                    account_number=str(rng.randrange(10**5, 10**19)),
                    amount=rng.choice([None, rng.randrange(1, 10**13)]),
                    purpose=rng.choice([None, f"CHO40 {rng.randrange(10**7, 10**8)}", "thanh toan don hang"]),
                )
            )
        )
    for _ in range(6):
        samples.append("".join(rng.choice(string.printable[:95]) for _ in range(rng.randrange(1, 300))))
    return samples


@pytest.mark.parametrize("level", ["M", "Q", "H"])
def test_it_builds_the_same_symbol_as_the_qrcode_library(level):
    # Same mode, version, mask choice and modules as qrcode's own make(fit=True).
    for payload in _samples():
        reference = _reference(payload, level)
        matrix = qr_matrix(payload, error_correction=level)
        assert matrix.version == reference.version, payload
        expected = reference.get_matrix()
        assert [[matrix.is_dark(r, c) for c in range(matrix.size)] for r in range(matrix.size)] == [
            [bool(cell) for cell in row] for row in expected
        ], payload
