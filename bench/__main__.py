"""`make bench`: run every benchmark and append the results to docs/benchmarks.md.

``python -m bench [--quick] [MODULE ...]``: ``--quick`` (``make bench-quick``)
runs every module at its quick size, the whole set in under 2 minutes, and
its table is headed "Quick run of …" so that it is never read as a full run.

Each module in this package exposes ``run() -> dict`` (or a list of them)
with at least ``name``, ``value``, ``unit``, ``target`` and ``ok``, and, for
every figure that has one, ``baseline`` (the baseline's value and unit, as
text, measured in the same run), ``ratio`` (a number) and ``ratio_of`` (what
is divided by what). This driver prints a table and records it with the
machine, the date and the load average, since a number without its machine
means nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import bench
from bench import machine

MODULES = [
    "bench.bench_vietqr",
    "bench.bench_qr_images",
    "bench.bench_cards",
    "bench.bench_webhooks",
    "bench.bench_stall",  # after bench_webhooks: drives the intake at the rate that one measured
    "bench.bench_stats",
    "bench.bench_import",
    "bench.bench_offline_sync",
]
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "| benchmark | result | baseline (same run) | ratio | target | met | note |\n"


def ratio_cell(row: dict[str, Any]) -> str:
    value = row.get("ratio")
    if value is None:
        return "—"
    of = row.get("ratio_of")
    return f"{value:g}× ({of})" if of else f"{value:g}×"


def table_row(row: dict[str, Any]) -> str:
    note = str(row.get("note", "")).replace("|", "/").replace("\n", " ")
    return (
        f"| {row.get('name')} | {row.get('value')} {row.get('unit')} | {row.get('baseline') or '—'} | "
        f"{ratio_cell(row)} | {row.get('target')} | {'yes' if row.get('ok') else 'no'} | {note} |\n"
    )


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    if quick:
        bench.QUICK = True
        os.environ["BENCH_QUICK"] = "1"  # for the modules' subprocesses
    only = {arg for arg in argv if not arg.startswith("--")}
    rows: list[dict[str, Any]] = []
    failed = False
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    for module_name in MODULES:
        short = module_name.rsplit(".", 1)[1]
        if only and short not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            print(f"{short}: not available ({exc})")
            continue
        print(f"== {short}{' (quick)' if quick else ''}", flush=True)
        module_started = time.monotonic()
        try:
            result = module.run()
        except Exception:
            traceback.print_exc()
            failed = True
            continue
        results = result if isinstance(result, list) else [result]
        for row in results:
            rows.append(row)
            bench.RESULTS.append(row)
            ratio = f"; {ratio_cell(row)} of {row.get('baseline')}" if row.get("ratio") is not None else ""
            print(
                f"   {row.get('name')}: {row.get('value')} {row.get('unit')} (target {row.get('target')}) "
                f"{'OK' if row.get('ok') else 'BELOW TARGET'}{ratio}"
                f"{' — ' + str(row['note']) if row.get('note') else ''}"
            )
        print(f"   ({short}: {time.monotonic() - module_started:.0f} s)", flush=True)
    elapsed = time.monotonic() - started
    if rows:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        title = (
            f"\n## Quick run of {stamp} (`make bench-quick`: reduced sizes, not comparable with full runs)\n"
            if quick
            else f"\n## Run of {stamp}\n"
        )
        lines = [
            title,
            f"Machine: {machine()}; {elapsed:.0f} s in all, load average {load_start:.1f} at start, "
            f"{os.getloadavg()[0]:.1f} at the end\n\n",
            HEADER,
            "|---|---|---|---|---|---|---|\n",
            *(table_row(row) for row in rows),
        ]
        DOC.parent.mkdir(exist_ok=True)
        if not DOC.exists():
            DOC.write_text("# Benchmarks\n\nProduced by `make bench`; newest run last.\n")
        with DOC.open("a") as fh:
            fh.writelines(lines)
        print(f"appended to {DOC} ({elapsed:.0f} s in all)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
