"""Benchmark of printable stall cards: a 2,000-vendor market's A4 PDF.

Run from the project root with ``python bench/bench_cards.py``; ``make
bench`` imports ``run()``. Exactly what the Celery task does after its one
database query: for each vendor the static payload, the QR symbol and the
drawing, four A6 cards per A4 page, written to a file. Vendors are unsaved
model instances, so no database is needed. Single thread.
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

TARGET_SECONDS = 60.0
CARDS = 2000
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


def run(count: int = CARDS) -> dict[str, object]:
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
    return {
        "name": f"{count:,}-card market PDF",
        "value": round(cpu, 1),
        "unit": "s",
        "target": f"<= {TARGET_SECONDS:.0f} s",
        "ok": cpu <= TARGET_SECONDS and wall <= TARGET_SECONDS,
        "note": f"{count // 4} A4 pages, {size / 1e6:.1f} MB, {cpu / count * 1000:.1f} ms/card CPU, "
        f"{wall:.1f} s wall; 1 core",
    }


if __name__ == "__main__":
    row = run()
    print(f"{row['name']}: {row['value']} {row['unit']} (target {row['target']}) — {row['note']}")
