"""The benchmark driver's table (bench/__main__.py): every row beside its
baseline and ratio, quick runs marked as such; and the VietQR baseline
(bench/vietqr_peer.py) reading our payloads as we do."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import bench
from bench import __main__ as driver


# Pure code: the project-wide autouse fixtures (empty the cache, reload
# reference data) are replaced here by ones that need no test database.
@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """No cache here."""


@pytest.fixture(autouse=True)
def _reference_data() -> None:
    """No database here."""


def test_ratio_is_value_over_baseline_to_three_significant_digits():
    assert bench.ratio(1344, 3946) == 0.341
    assert bench.ratio(2.26, 0.16) == 14.1
    assert bench.ratio(82.3, 609.3) == 0.135
    assert bench.ratio(5, 0) is None
    assert bench.ratio(None, 3.0) is None


@pytest.fixture
def fake_run(monkeypatch, tmp_path) -> Path:
    """The driver with one fake module and the document in a temporary file."""
    module = types.ModuleType("bench.bench_fake")
    module.run = lambda: [  # type: ignore[attr-defined]
        {"name": "intake, 64 connections", "value": 1025, "unit": "payments/s", "target": ">= 1000", "ok": True,
         "baseline": "pgbench simple-update: 2,636 TPS", "ratio": 0.389,
         "ratio_of": "intake payments/s ÷ pgbench TPS", "note": "p50 56.9 ms | p99 138.2 ms"},
        {"name": "streams open", "value": 100, "unit": "streams", "target": "= 100", "ok": False},
        {"name": "rows", "value": bench.size(10_000, 2_000), "unit": "rows", "target": "-", "ok": True},
    ]  # fmt: skip
    monkeypatch.setitem(sys.modules, "bench.bench_fake", module)
    monkeypatch.setattr(driver, "MODULES", ["bench.bench_fake"])
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n")
    monkeypatch.setattr(driver, "DOC", doc)
    monkeypatch.setattr(bench, "QUICK", False)
    monkeypatch.setattr(bench, "RESULTS", [])
    monkeypatch.setenv("BENCH_QUICK", "0")  # the driver sets it for its subprocesses; restored after
    return doc


def _table(doc: Path) -> list[str]:
    return [line for line in doc.read_text().splitlines() if line.startswith("|")]


def test_a_full_run_has_the_baseline_and_the_ratio_columns(fake_run):
    assert driver.main([]) == 0

    text = fake_run.read_text()
    assert "\n## Run of " in text and "Quick run" not in text
    header, _, with_baseline, without, sized = _table(fake_run)
    assert header == "| benchmark | result | baseline (same run) | ratio | target | met | note |"
    cells = [cell.strip() for cell in with_baseline.strip("|").split(" | ")]
    assert cells[:6] == [
        "intake, 64 connections",
        "1025 payments/s",
        "pgbench simple-update: 2,636 TPS",
        "0.389× (intake payments/s ÷ pgbench TPS)",
        ">= 1000",
        "yes",
    ]
    assert len(cells) == 7  # a "|" in a note does not add a column
    assert without.startswith("| streams open | 100 streams | — | — | = 100 | no |")
    assert sized.startswith("| rows | 10000 rows |")


def test_a_quick_run_is_headed_as_one(fake_run):
    assert driver.main(["--quick"]) == 0

    text = fake_run.read_text()
    assert "\n## Quick run of " in text
    assert "## Run of" not in text
    assert _table(fake_run)[-1].startswith("| rows | 2000 rows |")  # the modules ran at their quick sizes


def test_the_vietqr_baseline_reads_our_payloads_as_we_do():
    pytest.importorskip("vietnam_qr_pay")
    from bench import vietqr_peer
    from bench.bench_vietqr import make_payloads

    counts, examples = vietqr_peer.disagreements(vietqr_peer.folded(make_payloads(200)))

    assert not counts, examples
