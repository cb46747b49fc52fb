"""What a schemathesis run as one role found, read from its NDJSON report
(``--report ndjson``): operations, cases (requests sent), the failing checks
and every 5xx answer, with the exception the server logged for it."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from drills.report import DrillResult


def load_events(report_dir: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sorted(report_dir.glob("*.ndjson")):
        events.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return events


def _content(response: dict[str, Any]) -> str:
    content = response.get("content") or {}
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode(errors="replace")
    return str(content.get("string", "")) if isinstance(content, dict) else str(content)


def summarize(events: list[dict[str, Any]]) -> dict[str, Any]:
    """operations, cases, failures ("operation: check — title" → cases), examples
    (the same → a message), five_xx ["STATUS METHOD path: body"]."""
    operations: set[str] = set()
    cases = 0
    failures: dict[str, int] = {}  # "operation: check — title" → failing cases
    examples: dict[str, str] = {}  # the same → the first failure's message
    five_xx: list[str] = []
    for event in events:
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        operations.add(recorder["label"])
        interactions = recorder.get("interactions") or {}
        cases += len(interactions)
        for interaction in interactions.values():
            response = interaction.get("response") or {}
            status = int(response.get("status_code") or 0)
            if status >= 500:
                request = interaction["request"]
                path = re.sub(r"^https?://[^/]+", "", request["uri"])
                five_xx.append(f"{status} {request['method']} {path[:160]}: {_content(response)[:200]}")
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = (check.get("failure_info") or {}).get("failure") or {}
                key = f"{recorder['label']}: {check['name']} — {failure.get('title', '')}"
                failures[key] = failures.get(key, 0) + 1
                message = " ".join(str(failure.get("message", "")).split())
                examples.setdefault(key, message[:240])
    return {
        "operations": len(operations),
        "cases": cases,
        "failures": failures,
        "examples": examples,
        "five_xx": five_xx,
    }


def exceptions_in(log_text: str) -> list[str]:
    """The exception line of every traceback in a server log (the first line
    after it that is not a frame), distinct, in order."""
    found: list[str] = []
    lines = log_text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("Traceback"):
            continue
        for follow in lines[i + 1 :]:
            if follow and not follow.startswith((" ", "\t")):
                if follow not in found:
                    found.append(follow[:300])
                break
    return found


def record(result: DrillResult, role: str, returncode: int, summary: dict[str, Any], causes: list[str]) -> None:
    """Add one role's figures, 5xx and failures to the drill's result."""
    failures: dict[str, int] = summary["failures"]
    result.requests_sent += summary["cases"]
    result.figures[f"{role}: operations / cases / failing checks"] = (
        f"{summary['operations']} / {summary['cases']} / {sum(failures.values())} in {len(failures)} kinds"
        f" ({summary['seconds']} s)"
    )
    cause = f" (server log: {'; '.join(causes)[:400]})" if causes else ""
    result.errors_5xx.extend(f"{line} — as {role}{cause}" for line in summary["five_xx"])
    result.check(returncode != -1, f"{role}: schemathesis did not finish in its time budget")
    result.check(summary["operations"] > 0, f"{role}: schemathesis tested no operation (exit {returncode})")
    examples: dict[str, str] = summary.get("examples", {})
    for what, count in sorted(failures.items()):
        example = f"; e.g. {examples[what]}" if examples.get(what) else ""
        result.failures.append(f"{role}: {what} ({count} cases{example})")
