"""Benchmark of printable stall cards: a 2,000-vendor market's A4 PDF.

Run from the project root with ``python bench/bench_cards.py``; ``make
bench`` imports ``run()``. Exactly what the Celery task does after its one
database query: for each vendor the static payload, the QR symbol and the
drawing, four A6 cards per A4 page, written to a file. Vendors are unsaved
model instances, so no database is needed. Single thread.

Baseline, same run: reportlab alone writing a PDF of the same number of A4
pages, each with four images (one per card) placed with ``drawImage`` — the
QRs of the same vendors, rendered to PNG beforehand and not timed — and no
text: the cost of the pages and the pictures in the PDF library itself, which
any card renderer on reportlab pays. The ratio is ours ÷ that, in CPU
seconds (1: the cards cost nothing beyond placing their pictures).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

if TYPE_CHECKING:
    from vendors.models import Vendor

import bench  # noqa: E402

TARGET_SECONDS = 60.0
CARDS = 2000
QUICK_CARDS = 200
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ")
GIVEN = ("Thị Hoà", "Văn Bình", "Thị Mận", "Hữu Đức", "Thị Ngọc Ánh", "Quốc Việt", "Thị Thu Hương")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def make_vendors(count: int = CARDS, seed: int = 5) -> list[Vendor]:
    from chopay.identifiers import damm_check_digit
    from market.models import Bank, Market
    from vendors.models import Vendor

    rng = random.Random(seed)
    market = Market(name="Chợ Trung tâm Thái Nguyên", code="TN-TT")
    banks = [Bank(bin="970436", short_name="Vietcombank"), Bank(bin="970422", short_name="MBBank"),
             Bank(bin="970405", short_name="Agribank"), Bank(bin="970415", short_name="VietinBank")]  # fmt: skip
    vendors = []
    for i in range(count):
        body = str(1_000_000 + i)
        vendors.append(
            Vendor(
                market=market,
                bank=rng.choice(banks),
                full_name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
                stall_label=f"{'ABCDEFGH'[i % 8]}-{i // 8 + 1}",
                account_number="".join(rng.choice("0123456789") for _ in range(rng.randint(9, 14))),
                account_name="NGUYEN THI HOA",
                merchant_code=body + damm_check_digit(body),
            )
        )
    return vendors


def baseline_pdf(payloads: list[str], out: Path) -> float:
    """CPU seconds for reportlab to write len(payloads) / 4 A4 pages with four
    pre-rendered QR PNGs each (rendered first, not timed)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    from chopay.qr_images import render_png

    pngs = [render_png(payload, size=512) for payload in payloads]
    width, height = A4
    side = min(width, height) / 2 - 40
    cpu = time.process_time()
    canvas = Canvas(str(out), pagesize=A4, pageCompression=1)
    for i, png in enumerate(pngs):
        col, row = i % 2, (i // 2) % 2
        canvas.drawImage(ImageReader(io.BytesIO(png)), 20 + col * width / 2, 20 + row * height / 2, side, side)
        if i % 4 == 3:
            canvas.showPage()
    canvas.save()
    return time.process_time() - cpu


def run(count: int | None = None) -> dict[str, object]:
    count = count or bench.size(CARDS, QUICK_CARDS)
    _setup_django()
    from payments.cards.card_pdf import cards_for, render_cards_pdf

    vendors = make_vendors(count)
    render_cards_pdf(cards_for(vendors[:4]), title="warm-up")  # fonts loaded once per process
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "cards.pdf"
        wall = time.perf_counter()
        cpu = time.process_time()
        with target.open("wb") as out:
            render_cards_pdf(cards_for(vendors), title="bench", out=out, total=count)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        size = target.stat().st_size
        from chopay.vietqr import VietQR, encode

        payloads = [
            encode(VietQR(bank_bin=v.bank.bin, account_number=v.account_number, purpose=f"CHO40 {v.merchant_code}"))
            for v in vendors
        ]
        base = baseline_pdf(payloads, Path(tmp) / "baseline.pdf")
        base_size = (Path(tmp) / "baseline.pdf").stat().st_size
    return {
        "name": f"{count:,}-card market PDF",
        "value": round(cpu, 1),
        "unit": "s",
        "target": f"<= {TARGET_SECONDS:.0f} s",
        "ok": cpu <= TARGET_SECONDS and wall <= TARGET_SECONDS,
        "note": f"{count // 4} A4 pages, {size / 1e6:.1f} MB, {cpu / count * 1000:.1f} ms/card CPU, "
        f"{wall:.1f} s wall; 1 core; the baseline's PDF {base_size / 1e6:.1f} MB",
        "baseline": f"reportlab, {count // 4} pages of 4 pre-rendered QR PNGs (drawImage), no text: {base:.1f} s",
        "ratio": bench.ratio(cpu, base),
        "ratio_of": "card PDF ÷ reportlab placing the same number of QR images, CPU seconds",
    }


if __name__ == "__main__":
    row = run()
    print(f"{row['name']}: {row['value']} {row['unit']}; {row['baseline']}, ratio {row['ratio']} — {row['note']}")
