"""What drills do to a running stack besides sending bank credits: sign in
(API token and the web form), pay by USSD, open stall pages' event streams,
run ``celery beat``, and read each process's memory.

Every request goes to 127.0.0.1 only, says it came through the TLS proxy
(``X-Forwarded-Proto: https``, as production settings expect) and is bounded
by a timeout.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from drills.services import PYTHON, ROOT, Process, Stack, children

USSD_SECRET = "drill-ussd-shared-secret"  # the scratch deployment's USSD secret (not a real one)
STALL_PASSWORD = "bench-only-not-a-password"  # bench.stall_seed's password for every stall account


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request; (0, {}, cause) when there was no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https", **(headers or {})}
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        got = {k.lower(): v for k, v in response.getheaders()}
        got["set-cookie"] = "; ".join(v for k, v in response.getheaders() if k.lower() == "set-cookie")
        return response.status, got, data
    except (OSError, http.client.HTTPException) as exc:
        return 0, {}, f"{type(exc).__name__}: {exc}".encode()
    finally:
        conn.close()


def _cookie(set_cookie: str, name: str) -> str | None:
    found = re.search(rf"(?:^|[;,]\s*){re.escape(name)}=([^;,\s]+)", set_cookie)
    return found.group(1) if found else None


def sign_in_api(port: int, username: str, password: str) -> tuple[int, str]:
    """POST /api/v1/auth/token/: (status, error code or '')."""
    body = json.dumps({"username": username, "password": password}).encode()
    status, _, data = request(
        port, "POST", "/api/v1/auth/token/", body=body, headers={"Content-Type": "application/json"}
    )
    if status == 200 and json.loads(data).get("token"):
        return status, ""
    try:
        return status, str(json.loads(data)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return status, data[:120].decode("utf-8", "replace")


def sign_in_web(port: int, username: str, password: str) -> tuple[int, str]:
    """The /login/ form as a browser fills it (CSRF cookie and token), then
    /stall/ with the session it got: (status of /stall/, what went wrong or '')."""
    status, headers, page = request(port, "GET", "/login/")
    csrf = _cookie(headers.get("set-cookie", ""), "csrftoken")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not csrf or not token:
        return status, f"GET /login/ answered {status} without a CSRF token"
    form = urlencode({"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": password})
    status, headers, page = request(
        port,
        "POST",
        "/login/",
        body=form.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}/login/",
        },
    )
    session = _cookie(headers.get("set-cookie", ""), "sessionid")
    if status != 302 or not session:
        return status, f"POST /login/ answered {status}: {page[:120].decode('utf-8', 'replace')}"
    status, _, _ = request(port, "GET", "/stall/", headers={"Cookie": f"sessionid={session}"})
    return status, "" if status == 200 else f"GET /stall/ after signing in answered {status}"


def ussd_pay(port: int, session_id: str, merchant_code: str, amount: int) -> tuple[int, str]:
    """A whole USSD session in its final request (the menu is a function of
    the text): code, accept the vendor, amount, confirm. (status, reply)."""
    form = urlencode(
        {
            "sessionId": session_id,
            "serviceCode": "*384*40#",
            "phoneNumber": "0987654321",
            "text": f"{merchant_code}*1*{amount}*1",
        }
    )
    status, _, data = request(
        port,
        "POST",
        "/api/v1/ussd/",
        body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Ussd-Secret": USSD_SECRET},
    )
    return status, data[:200].decode("utf-8", "replace")


def stall_accounts(stack: Stack, count: int) -> tuple[str, list[list[Any]]]:
    """``count`` stall vendors with accounts and signed-in sessions
    (bench.stall_seed): (cookie name, [[vendor id, merchant code, account, session key], ...]).
    Their usernames are bench-stall-<i>, their password STALL_PASSWORD."""
    out = subprocess.run(
        [PYTHON, "-m", "bench.stall_seed", str(count)],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return str(data["cookie"]), list(data["vendors"])


def stall_cursors(stack: Stack) -> dict[str, str]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.stall_seed", "--cursors"],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1])["cursors"])


class StallStreams:
    """Stall pages' event streams held open by a process of their own
    (bench.stall_sse.listener, an EventSource-like client): ``open()`` says how
    many opened, ``close()`` returns what each received, with arrival times
    on the machine's monotonic clock."""

    def __init__(self, port: int, specs: list[tuple[int, str, str | None]]) -> None:
        from bench.stall_sse import listener

        ctx = multiprocessing.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self.process = ctx.Process(target=listener, args=(port, specs, child), daemon=True)
        self.process.start()

    def opened(self, timeout: float = 90.0) -> dict[str, Any]:
        if not self._pipe.poll(timeout):
            return {"open": 0, "errors": ["no answer from the listener"]}
        return dict(self._pipe.recv())

    def close(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        self._pipe.send("stop")
        streams: list[dict[str, Any]] = []
        if self._pipe.poll(timeout):
            streams = list(self._pipe.recv()["streams"])
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
        return streams

    def pids(self) -> list[int]:
        return [self.process.pid] if self.process.pid else []


@contextmanager
def beat(stack: Stack, **extra: str) -> Iterator[Process]:
    """``celery beat`` with the settings' schedule (CELERY_BEAT_SCHEDULE), its
    schedule file in the drill's temp dir, on the drill's Redis."""
    env = stack.env(CELERY_TASK_ALWAYS_EAGER="0", **extra)
    schedule = stack.postgres.base / "celerybeat-schedule"
    cmd = [str(Path(PYTHON).parent / "celery"), "-A", "config", "beat", "-l", "info", "--schedule", str(schedule)]
    process = stack.track(Process(f"beat-{os.getpid()}", cmd, env))
    try:
        yield process
    finally:
        process.stop()
        stack._processes.remove(process)


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    """``VmRSS`` (from /proc/PID/status), or from /proc/PID/smaps_rollup ``Pss``
    (shared pages divided among their users) or ``Private`` (Private_Clean +
    Private_Dirty: the process's own pages, without PostgreSQL's shared buffers,
    which fill up to shared_buffers by design as the data grows), KiB."""
    source = "status" if field == "VmRSS" else "smaps_rollup"
    wanted = ("Private_Clean:", "Private_Dirty:") if field == "Private" else (f"{field}:",)
    try:
        return sum(
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/{source}").read_text().splitlines()
            if line.startswith(wanted)
        )
    except OSError:
        return 0


def group_kib(pid: int, field: str = "VmRSS") -> int:
    """The process and its descendants."""
    return sum(memory_kib(p, field) for p in [pid, *children(pid)])


def python_exe() -> str:
    return sys.executable
