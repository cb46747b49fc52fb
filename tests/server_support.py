"""A real server process for the tests that need one (uvicorn, gunicorn):
started in a session of its own, waited for until it answers an HTTP request
(an open port is not enough: gunicorn's master listens before any worker
runs, and with ``--reuse-port`` the first worker resets what was queued
there, config/workers.py), and stopped with its whole process group at the
end, even when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from drills.services import wait_http

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def serving(
    command: list[str], *, port: int, env: dict[str, str], stop_timeout: float = 20
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (listening on 127.0.0.1:``port``) from the project's root
    with ``env``; yield the process once it answers an HTTP request. At the
    end: SIGTERM to its group, then SIGKILL after ``stop_timeout`` seconds (a
    request still hanging would hold a graceful shutdown forever)."""
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    name = Path(command[2] if command[1] == "-m" else command[0]).name
    try:
        try:
            wait_http(port, 60, process=server)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{name} did not start: {exc}") from exc
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=stop_timeout)
