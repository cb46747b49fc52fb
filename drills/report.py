"""Results of drills: what each one measured, kept and written up.

The latest result of every drill lives in ``docs/reliability.json`` (so that
rerunning one drill keeps the others' results), and ``docs/reliability.md`` is
regenerated from it on every run: a summary table, then a section per drill.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import machine as bench_machine

ROOT = Path(__file__).resolve().parent.parent
JSON_PATH = ROOT / "docs" / "reliability.json"
DOC_PATH = ROOT / "docs" / "reliability.md"
INTRO_PATH = Path(__file__).resolve().parent / "intro.md"


@dataclass
class DrillResult:
    """What a drill reports. Counts a drill does not apply to stay ``None``
    (a role matrix has no payments) and show as "—"."""

    name: str
    title: str
    ok: bool = False
    started_at: str = ""  # UTC ISO 8601, filled by the runner
    duration_s: float = 0.0  # filled by the runner
    requests_sent: int = 0
    payments_expected: int | None = None  # unique deliveries that should be recorded
    payments_recorded: int | None = None  # distinct payments found afterwards
    duplicates: int | None = None  # payments recorded more than once
    errors_5xx: list[str] = field(
        default_factory=list
    )  # "503 POST /path: cause" (one line each, or one per cause "… ×N")
    five_xx: int | None = None  # 5xx answers in all, when errors_5xx groups them by cause (else its length)
    figures: dict[str, str] = field(default_factory=dict)  # other measurements, e.g. "recovered after": "4.2 s"
    notes: list[str] = field(default_factory=list)  # what was done and seen, in sentences
    failures: list[str] = field(default_factory=list)  # why ok is False (each check that failed)
    machine: str = ""

    def check(self, condition: bool, failure: str) -> bool:
        """Record ``failure`` unless ``condition``; returns ``condition``."""
        if not condition:
            self.failures.append(failure)
        return condition

    def finish(self) -> DrillResult:
        """ok = no check failed. Call last."""
        self.ok = not self.failures
        return self


def machine() -> str:
    """The machine, described as the benchmarks describe it (bench.machine)."""
    return bench_machine()


def load() -> dict[str, dict[str, Any]]:
    if JSON_PATH.exists():
        data: dict[str, dict[str, Any]] = json.loads(JSON_PATH.read_text())
        return data
    return {}


def store(result: DrillResult) -> None:
    data = load()
    data[result.name] = asdict(result)
    JSON_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _cell(value: object) -> str:
    return "—" if value is None else str(value)


def _five_xx(r: dict[str, Any]) -> int:
    total = r.get("five_xx")
    return len(r["errors_5xx"]) if total is None else int(total)


def render(order: list[str]) -> str:
    """docs/reliability.md from the stored results, drills in ``order`` (the runner's list)."""
    data = load()
    out: list[str] = [INTRO_PATH.read_text().rstrip() + "\n"] if INTRO_PATH.exists() else ["# Reliability drills\n"]
    out.append("## Summary\n")
    out.append("| drill | result | run (UTC) | s | requests | payments expected | recorded | duplicates | 5xx |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    names = [n for n in order if n in data] + sorted(n for n in data if n not in order)
    for name in names:
        r = data[name]
        out.append(
            f"| [{r['title']}](#{name.replace('_', '-')}) | {'PASS' if r['ok'] else '**FAIL**'} | {r['started_at'][:16].replace('T', ' ')}"
            f" | {r['duration_s']:.0f} | {r['requests_sent']} | {_cell(r['payments_expected'])}"
            f" | {_cell(r['payments_recorded'])} | {_cell(r['duplicates'])} | {_five_xx(r)} |"
        )
    missing = [n for n in order if n not in data]
    if missing:
        out.append("\nNot run yet: " + ", ".join(f"`{n}`" for n in missing) + ".")
    for name in names:
        r = data[name]
        out.append(f'\n<a id="{name.replace("_", "-")}"></a>\n## {r["title"]}\n')
        out.append(
            f"`python -m drills {name}` — {'PASS' if r['ok'] else '**FAIL**'}, run {r['started_at'][:19].replace('T', ' ')} UTC in {r['duration_s']:.0f} s on {r['machine']}.\n"
        )
        rows = [
            ("requests sent", r["requests_sent"]),
            ("payments expected", _cell(r["payments_expected"])),
            ("payments recorded", _cell(r["payments_recorded"])),
            ("duplicates", _cell(r["duplicates"])),
            ("5xx answers", _five_xx(r)),
            *r["figures"].items(),
        ]
        out.append("| measure | value |\n|---|---|")
        out.extend(f"| {k} | {v} |" for k, v in rows)
        if r["failures"]:
            out.append("\nFailed checks:\n")
            out.extend(f"- {f}" for f in r["failures"])
        if r["errors_5xx"]:
            out.append("\nEvery 5xx, with its cause:\n")
            out.extend(f"- {e}" for e in r["errors_5xx"][:50])
            if len(r["errors_5xx"]) > 50:
                out.append(f"- … and {len(r['errors_5xx']) - 50} more")
        if r["notes"]:
            out.append("")
            out.extend(r["notes"])
    return "\n".join(out) + "\n"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
