"""The benchmarks of ``make bench`` (see ``bench/__main__.py``)."""

from __future__ import annotations

from typing import Any

# The rows of the benchmarks run so far in this ``make bench``, in order: a
# later benchmark may build on an earlier one's figure (the live-receipts one
# drives the intake at the rate the intake benchmark measured).
RESULTS: list[dict[str, Any]] = []
