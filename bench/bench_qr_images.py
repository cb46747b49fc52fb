"""Benchmark of QR images: stall/sale PNGs (and SVGs) rendered per second.

Run from the project root with ``python bench/bench_qr_images.py``; ``make
bench`` imports ``run()``. Single thread (one core), CPU time of this process
(so that other processes on a shared machine do not count). Each image is a
different payload, rendered from scratch: payload → QR symbol (mode, version,
Reed-Solomon, the eight masks scored) → image bytes. Nothing is cached except
the per-version layout tables, which any long-running process has after its
first image.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from chopay.identifiers import REFERENCE_ALPHABET  # noqa: E402
from chopay.qr import qr_matrix  # noqa: E402
from chopay.qr_images import render_png, render_svg  # noqa: E402
from chopay.vietqr import VietQR, encode  # noqa: E402

TARGET_PNG_PER_S = 300
BINS = ("970436", "970415", "970405", "970418", "970422", "970407", "970416", "970432", "970423", "970403")


def make_payloads(count: int = 500, seed: int = 11) -> list[str]:
    """Stall QRs (static, ``CHO40 <merchant code>``) and sale QRs (dynamic, a
    reference in bill number and purpose), as this project prints them."""
    rng = random.Random(seed)
    payloads = []
    for _ in range(count):
        account = "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 14)))
        if rng.random() < 0.5:
            qr = VietQR(
                bank_bin=rng.choice(BINS), account_number=account, purpose=f"CHO40 {rng.randrange(10**7, 10**8)}"
            )
        else:
            reference = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(10))
            qr = VietQR(
                bank_bin=rng.choice(BINS),
                account_number=account,
                amount=rng.randrange(5, 2000) * 1000,
                bill_number=reference,
                purpose=f"CHO40 {reference}",
            )
        payloads.append(encode(qr))
    return payloads


def _rate(step: Callable[[str], object], items: Sequence[str], seconds: float) -> float:
    done = 0
    started = time.process_time()
    while True:
        for item in items:
            step(item)
        done += len(items)
        elapsed = time.process_time() - started
        if elapsed >= seconds:
            return done / elapsed


def run(seconds: float = 3.0) -> list[dict[str, object]]:
    payloads = make_payloads()
    _rate(render_png, payloads[:50], 0.1)  # warm-up: per-version tables
    png = _rate(lambda p: render_png(p, size=512), payloads, seconds)
    svg = _rate(lambda p: render_svg(p, size=512), payloads, seconds / 3)
    matrix = _rate(qr_matrix, payloads, seconds / 3)
    versions = sorted({qr_matrix(p).version for p in payloads})
    note = f"512 px, error correction M, QR versions {versions[0]}–{versions[-1]}; 1 core, CPU time"
    return [
        {"name": "QR PNG", "value": round(png), "unit": "images/s", "target": f">= {TARGET_PNG_PER_S}",
         "ok": png >= TARGET_PNG_PER_S, "note": note},
        {"name": "QR SVG", "value": round(svg), "unit": "images/s", "target": "-", "ok": True, "note": note},
        {"name": "QR symbol only", "value": round(matrix), "unit": "symbols/s", "target": "-", "ok": True,
         "note": "payload → module matrix, no image"},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}) — {row['note']}")
