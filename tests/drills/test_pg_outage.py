"""How the PostgreSQL drills judge a phase (drills/pg_outage.py): no server needed."""

from __future__ import annotations

from collections import Counter

from drills.pg_outage import Phase, judge
from drills.providers import Answer, LoadReport
from drills.report import DrillResult

RETRY = "database_unavailable: try again (Retry-After: 30)"


def _phase(answers: list[Answer], *, recorded: int, duplicates: int = 0) -> Phase:
    unique = len({a.txn_id for a in answers})
    report = LoadReport(sent=len(answers), unique=unique, delivered=unique, answers=answers)
    return Phase(
        lane="asgi",
        fault="freeze",
        load=report,
        ids=range(1, unique + 1),
        fault_at=10.0,
        down_at=10.0,
        back_at=40.0,
        fault_wall=(0.0, 30.0),
        pids_before=[1, 2],
        pids_after=[1, 2],
        master_alive=True,
        recorded=recorded,
        duplicates=duplicates,
        deliveries=Counter(processed=recorded),
    )


def _clean() -> list[Answer]:
    return [
        Answer(1, 1, 200, 0.01, "", at=5.0),
        Answer(2, 1, 503, 6.0, RETRY, at=12.0),
        Answer(2, 2, 200, 0.02, "", at=41.0),
    ]


def test_a_clean_phase_passes_and_reports_its_figures() -> None:
    result = DrillResult(name="pg_freeze", title="t")
    judge(result, _phase(_clean(), recorded=2))

    assert result.finish().ok, result.failures
    assert (result.requests_sent, result.payments_expected, result.payments_recorded) == (3, 2, 2)
    assert result.figures["ASGI, freeze: slowest answer while it was out / overall"] == "6.00 s / 6.00 s"
    assert result.figures["ASGI, freeze: first 200 after PostgreSQL was back"] == "1.02 s"
    assert result.errors_5xx == [f"503 POST /api/v1/webhooks/sepay/: {RETRY} [ASGI, freeze, PostgreSQL out] ×1"]


def test_a_500_a_hang_a_lost_and_a_doubled_payment_each_fail_it() -> None:
    answers = [
        *_clean(),
        Answer(3, 1, 500, 0.1, "server_error: boom", at=15.0),
        Answer(3, 2, 0, 10.0, "TimeoutError: timed out", at=20.0),
        Answer(3, 3, 200, 0.1, "", at=42.0),
    ]
    result = DrillResult(name="pg_freeze", title="t")
    judge(result, _phase(answers, recorded=2, duplicates=1))

    failures = "\n".join(result.finish().failures)
    assert not result.ok
    assert "1 answers were 500" in failures
    assert "no answer within the providers' 10 s" in failures
    assert "2 payments recorded for 3 unique deliveries" in failures
    assert "1 payments recorded twice" in failures
