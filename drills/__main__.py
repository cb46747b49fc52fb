"""`python -m drills [NAME ...] [--quick]`: run the drills, record each result in
docs/reliability.json and regenerate docs/reliability.md.

With no name every drill runs; ``--quick`` runs only those marked ``QUICK``
(the ones CI runs); ``--junit PATH`` also writes the results as a JUnit XML
report, one test case per drill, which CI's summary line counts.
Exit status 1 when any drill run failed.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from pathlib import Path

from drills import report

# In the order of the issue (docs/reliability.md follows it).
DRILLS = [
    "schemathesis_roles",
    "role_matrix",
    "pg_restart",
    "pg_freeze",
    "redis_stop",
    "celery_kill",
    "abuse",
    "soak",
    "deploy_check",
]


def _available() -> list[str]:
    names = []
    for name in DRILLS:
        try:
            importlib.import_module(f"drills.drill_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"drills.drill_{name}":
                raise
            continue
        names.append(name)
    return names


def _junit(path: Path, results: list[report.DrillResult]) -> None:
    suite = ET.Element(
        "testsuite",
        name="drills",
        tests=str(len(results)),
        failures=str(sum(not r.ok for r in results)),
        skipped="0",
        errors="0",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="drills", name=r.name, time=f"{r.duration_s:.1f}")
        if not r.ok:
            ET.SubElement(case, "failure", message=r.failures[0][:200] if r.failures else "failed").text = "\n".join(
                r.failures
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    junit: Path | None = None
    if "--junit" in argv:
        at = argv.index("--junit")
        junit = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    flags = [a for a in argv if a.startswith("-") and a != "--quick"]
    if flags:  # ``--help`` once ran every drill, the 30-minute soak included
        print(
            f"unknown option(s): {', '.join(flags)}\nusage: python -m drills [--quick] [--junit FILE] [DRILL ...]; "
            f"drills: {', '.join(DRILLS)}",
            file=sys.stderr,
        )
        return 2
    asked = [a for a in argv if not a.startswith("--")]
    names = asked or _available()
    unknown = [n for n in names if n not in DRILLS]
    if unknown:
        print(f"unknown drill(s): {', '.join(unknown)}; known: {', '.join(DRILLS)}", file=sys.stderr)
        return 2
    failed = False
    results: list[report.DrillResult] = []
    for name in names:
        module = importlib.import_module(f"drills.drill_{name}")
        if quick and not getattr(module, "QUICK", False):
            continue
        print(f"== drill {name}: {module.TITLE}", flush=True)
        started_at, started = report.now_iso(), time.monotonic()
        try:
            result = module.run()
        except Exception:  # a drill that crashed is a failed drill, written up as such
            result = report.DrillResult(name=name, title=module.TITLE)
            result.failures.append("the drill itself crashed:\n\n```\n" + traceback.format_exc()[-3000:] + "```")
            result.finish()
        result.name, result.title = name, module.TITLE
        result.started_at, result.duration_s, result.machine = started_at, time.monotonic() - started, report.machine()
        report.store(result)
        results.append(result)
        failed |= not result.ok
        print(f"   {'PASS' if result.ok else 'FAIL'} in {result.duration_s:.0f} s", flush=True)
        for failure in result.failures:
            print(f"   - {failure}", flush=True)
    report.DOC_PATH.write_text(report.render(DRILLS))
    if junit is not None:
        _junit(junit, results)
    print(f"written: {report.DOC_PATH.relative_to(report.ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
