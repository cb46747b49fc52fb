"""`make bench`: run every benchmark and append the results to docs/benchmarks.md.

Each module in this package exposes ``run() -> dict`` with at least ``name``,
``value``, ``unit``, ``target`` and ``ok``; this driver prints a table and
records it with the machine and the date, since a number without its machine
means nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import sys
import traceback
from pathlib import Path

import bench

MODULES = [
    "bench.bench_vietqr",
    "bench.bench_qr_images",
    "bench.bench_cards",
    "bench.bench_webhooks",
    "bench.bench_stall",  # after bench_webhooks: drives the intake at the rate that one measured
    "bench.bench_stats",
    "bench.bench_import",
]
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    only = set(argv)
    rows: list[dict[str, object]] = []
    failed = False
    for module_name in MODULES:
        short = module_name.rsplit(".", 1)[1]
        if only and short not in only:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            print(f"{short}: not available ({exc})")
            continue
        print(f"== {short}", flush=True)
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
            print(
                f"   {row.get('name')}: {row.get('value')} {row.get('unit')} (target {row.get('target')}) "
                f"{'OK' if row.get('ok') else 'BELOW TARGET'}{' — ' + str(row['note']) if row.get('note') else ''}"
            )
    if rows:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"\n## Run of {stamp}\n",
            f"Machine: {machine()}\n\n",
            "| benchmark | result | target | met | note |\n",
            "|---|---|---|---|---|\n",
        ]
        for row in rows:
            lines.append(
                f"| {row.get('name')} | {row.get('value')} {row.get('unit')} | {row.get('target')} | "
                f"{'yes' if row.get('ok') else 'no'} | {row.get('note', '')} |\n"
            )
        DOC.parent.mkdir(exist_ok=True)
        if not DOC.exists():
            DOC.write_text("# Benchmarks\n\nProduced by `make bench`; newest run last.\n")
        with DOC.open("a") as fh:
            fh.writelines(lines)
        print(f"appended to {DOC}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
