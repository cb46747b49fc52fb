"""``python -m drills``'s command line: an option it does not know is refused
before any drill starts (``--help`` once ran all of them, the 30-minute soak
included)."""

from __future__ import annotations

import pytest

from drills.__main__ import main


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--quick", "--verbose"], ["pg_restart", "--dry-run"]])
def test_an_unknown_option_runs_no_drill(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    import drills.__main__ as entry

    started: list[str] = []
    monkeypatch.setattr(entry, "_available", lambda: started.append("all") or [])

    assert main(argv) == 2
    assert "unknown option" in capsys.readouterr().err
    assert started == []


def test_an_unknown_drill_is_refused_with_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no_such_drill"]) == 2
    assert "pg_restart" in capsys.readouterr().err
