"""The benchmarks of ``make bench`` (see ``bench/__main__.py``)."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# The rows of the benchmarks run so far in this ``make bench``, in order: a
# later benchmark may build on an earlier one's figure (the live-receipts one
# drives the intake at the rate the intake benchmark measured).
RESULTS: list[dict[str, Any]] = []

# ``make bench-quick`` (``python -m bench --quick``) sets this: every module
# then runs at its quick size (``size()``), the whole set in under 2 minutes.
# The environment knobs of each module still win over both sizes.
QUICK = os.environ.get("BENCH_QUICK") == "1"


def size(full: int, quick: int) -> int:
    """The full size of a benchmark, or its quick one under ``--quick``."""
    return quick if QUICK else full


def scratch(name: str) -> str:
    """A scratch database's name: BENCH_DB_SUFFIX appended (two people benchmarking
    on one PostgreSQL server then use different databases)."""
    return name + os.environ.get("BENCH_DB_SUFFIX", "")


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value ÷ baseline to three significant digits; None when either is missing
    or the baseline is 0."""
    if value is None or not baseline:
        return None
    return float(f"{value / baseline:.3g}")


def machine() -> str:
    """The machine a benchmark or drill ran on: cores, CPU, memory, kernel, Python."""
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
