"""Benchmark of QR images: stall/sale PNGs (and SVGs) rendered per second.

Run from the project root with ``python bench/bench_qr_images.py``; ``make
bench`` imports ``run()``. Single thread (one core), CPU time of this process
(so that other processes on a shared machine do not count). Each image is a
different payload, rendered from scratch: payload → QR symbol (mode, version,
Reed-Solomon, the eight masks scored) → image bytes. Nothing is cached except
the per-version layout tables, which any long-running process has after its
first image.

Baseline, same process, same payloads: the ``qrcode`` library (a dependency
already, requirements.txt) with its own default factories, error correction
M, a 4-module border and the same pixels per module as ours
(``qrcode.make_image()`` saved as PNG by Pillow, ``SvgPathImage`` for the
SVG, ``QRCode.make()`` alone for the symbol). Ratios are ours ÷ qrcode in
images per second (above 1: faster).
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

import io  # noqa: E402

import qrcode  # noqa: E402
import qrcode.image.svg  # noqa: E402

import bench  # noqa: E402
from chopay.identifiers import REFERENCE_ALPHABET  # noqa: E402
from chopay.qr import qr_matrix  # noqa: E402
from chopay.qr_images import render_png, render_svg, scale_for  # noqa: E402
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
    """Calls of ``step`` per CPU second over ``items`` in turn, for about ``seconds``
    (the clock is read every 20 items: a slow baseline stops on time too)."""
    done = 0
    started = time.process_time()
    while True:
        for start in range(0, len(items), 20):
            for item in items[start : start + 20]:
                step(item)
            done += len(items[start : start + 20])
            elapsed = time.process_time() - started
            if elapsed >= seconds:
                return done / elapsed


def _qrcode(payload: str) -> qrcode.QRCode:  # type: ignore[type-arg]
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=_BOX[payload])
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def qrcode_png(payload: str) -> bytes:
    out = io.BytesIO()
    _qrcode(payload).make_image().save(out)
    return out.getvalue()


def qrcode_svg(payload: str) -> bytes:
    out = io.BytesIO()
    _qrcode(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


_BOX: dict[str, int] = {}  # payload → our pixels per module at 512 px, given to qrcode too


def run(seconds: float | None = None) -> list[dict[str, object]]:
    seconds = seconds if seconds is not None else (0.9 if bench.QUICK else 3.0)
    payloads = make_payloads()
    for payload in payloads:
        _BOX[payload] = scale_for(qr_matrix(payload), 512)
    _rate(render_png, payloads[:50], 0.1)  # warm-up: per-version tables
    png = _rate(lambda p: render_png(p, size=512), payloads, seconds)
    svg = _rate(lambda p: render_svg(p, size=512), payloads, seconds / 3)
    matrix = _rate(qr_matrix, payloads, seconds / 3)
    _rate(qrcode_png, payloads[:20], 0.1)
    base_png = _rate(qrcode_png, payloads, seconds / 2)
    base_svg = _rate(qrcode_svg, payloads, seconds / 3)
    base_matrix = _rate(_qrcode, payloads, seconds / 3)
    versions = sorted({qr_matrix(p).version for p in payloads})
    theirs = sorted({_qrcode(p).version for p in payloads[:50]})
    note = (
        f"512 px, error correction M, QR versions {versions[0]}–{versions[-1]} "
        f"(qrcode chose {theirs[0]}–{theirs[-1]}); 1 core, CPU time"
    )
    of = "ours ÷ qrcode {}, per second".format
    return [
        {"name": "QR PNG", "value": round(png), "unit": "images/s", "target": f">= {TARGET_PNG_PER_S}",
         "ok": png >= TARGET_PNG_PER_S, "note": note, "baseline": f"qrcode {qrcode_version()} + Pillow PNG: {base_png:,.0f} images/s",
         "ratio": bench.ratio(png, base_png), "ratio_of": of("PNG")},
        {"name": "QR SVG", "value": round(svg), "unit": "images/s", "target": "-", "ok": True, "note": note,
         "baseline": f"qrcode SvgPathImage: {base_svg:,.0f} images/s", "ratio": bench.ratio(svg, base_svg),
         "ratio_of": of("SVG")},
        {"name": "QR symbol only", "value": round(matrix), "unit": "symbols/s", "target": "-", "ok": True,
         "note": "payload → module matrix, no image", "baseline": f"qrcode QRCode.make(): {base_matrix:,.0f} symbols/s",
         "ratio": bench.ratio(matrix, base_matrix), "ratio_of": of("symbol")},
    ]  # fmt: skip


def qrcode_version() -> str:
    from importlib.metadata import version

    return version("qrcode")


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value']} {row['unit']}; {row['baseline']}, ratio {row['ratio']}")
