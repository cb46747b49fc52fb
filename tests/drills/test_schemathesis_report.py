"""Reading a schemathesis NDJSON report (drills/schemathesis_report.py): the
figures and every 5xx of the schemathesis drill come from here."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from drills import schemathesis_report
from drills.report import DrillResult


def _scenario(label: str, answers: list[tuple[int, str]], failed: str | None = None) -> dict[str, object]:
    interactions = {
        f"case{i}": {
            "request": {"method": label.split()[0], "uri": f"http://127.0.0.1:8000{label.split()[1]}"},
            "response": {"status_code": status, "content": {"$base64": base64.b64encode(body.encode()).decode()}},
        }
        for i, (status, body) in enumerate(answers)
    }
    checks = {
        case: [
            {"name": "not_a_server_error", "status": "failure" if failed and case == "case0" else "success"}
            | ({"failure_info": {"failure": {"title": failed, "message": ""}}} if failed and case == "case0" else {})
        ]
        for case in interactions
    }
    return {"ScenarioFinished": {"recorder": {"label": label, "interactions": interactions, "checks": checks}}}


def test_it_counts_operations_cases_failures_and_every_5xx(tmp_path: Path) -> None:
    events = [
        _scenario("GET /api/v1/markets/", [(200, "[]"), (400, "{}")]),
        _scenario(
            "PUT /api/v1/vendors/{id}/", [(500, '{"error": {"code": "server_error"}}'), (200, "{}")], "Server error"
        ),
        {"EngineFinished": {}},
    ]
    (tmp_path / "run.ndjson").write_text("\n".join(json.dumps(e) for e in events) + "\n")

    summary = schemathesis_report.summarize(schemathesis_report.load_events(tmp_path))

    assert (summary["operations"], summary["cases"]) == (2, 4)
    assert summary["failures"] == {"PUT /api/v1/vendors/{id}/: not_a_server_error — Server error": 1}
    assert summary["five_xx"] == ['500 PUT /api/v1/vendors/{id}/: {"error": {"code": "server_error"}}']


def test_it_names_the_exception_of_each_traceback_once() -> None:
    log = "\n".join(
        [
            "2026-12-07 WARNING django.request Not Found: /x",
            "Traceback (most recent call last):",
            '  File "a.py", line 1, in f',
            "    g()",
            "psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes",
            "",
            "Traceback (most recent call last):",
            '  File "b.py", line 2, in g',
            "psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes",
        ]
    )

    assert schemathesis_report.exceptions_in(log) == [
        "psycopg.DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes"
    ]


def test_a_failing_check_fails_the_drill() -> None:
    result = DrillResult(name="schemathesis_roles", title="t")
    summary = {"operations": 3, "cases": 10, "failures": {"GET /x: response_schema_conformance — bad": 2}}
    summary |= {"five_xx": ["500 GET /x: boom"], "seconds": 1}

    schemathesis_report.record(result, "vendor", 1, summary, ["ValueError: boom"])

    assert not result.finish().ok
    assert result.requests_sent == 10
    assert result.errors_5xx == ["500 GET /x: boom — as vendor (server log: ValueError: boom)"]
