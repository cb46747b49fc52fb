"""Print the closing line of a CI run: every test step summed, in pytest's form.

Usage: summary.py LOG_DIR ELAPSED_SECONDS EXIT_CODE

Reads every JUnit XML report under LOG_DIR (pytest's ``--junitxml`` and
schemathesis' ``--report junit``), prints one line per report, then, as the
very last line, ``N passed, M failed, K skipped in S s`` (``M failed`` only
when something failed). A run that stopped before any test (lint, install)
counts as one failed step, so its last line never reads as a clean pass.
Standard library only: it runs with the system Python, before or without the
project's virtualenv.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _count(report: Path) -> tuple[int, int, int, int]:
    """(tests, failed, skipped, errors) of one JUnit XML file."""
    root = ET.parse(report).getroot()  # noqa: S314 (our own reports)
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    tests = failed = skipped = errors = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0))
        skipped += int(suite.get("skipped", 0))
        errors += int(suite.get("errors", 0))
    return tests, failed, skipped, errors


def main(log_dir: str, elapsed: str, exit_code: str) -> None:
    passed = failed = skipped = 0
    for report in sorted(Path(log_dir).rglob("*.xml")):
        try:
            tests, fails, skips, errors = _count(report)
        except (ET.ParseError, ValueError) as exc:
            print(f"summary: {report.name}: unreadable report ({exc})")
            failed += 1
            continue
        step_passed = tests - fails - skips - errors
        print(f"summary: {report.relative_to(log_dir)}: {step_passed} passed, {fails + errors} failed, {skips} skipped")
        passed += step_passed
        failed += fails + errors
        skipped += skips
    if exit_code != "0" and failed == 0:
        print(f"summary: the run stopped with exit code {exit_code} outside a test report")
        failed = 1
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{failed} failed")
    parts.append(f"{skipped} skipped")
    print(f"{', '.join(parts)} in {elapsed}s")


if __name__ == "__main__":
    main(*sys.argv[1:4])
