"""The services a drill starts for itself: PostgreSQL, Redis, gunicorn and
Celery workers, each on a spare port (and PostgreSQL on a data directory of
its own under the system temp dir), each stopped by the pid it was started
with. Never the shared services on 5432/6379.

A drill uses them as context managers, so that whatever happens the drill
leaves nothing running::

    with Stack(vendors=200) as stack:              # PostgreSQL + Redis, migrated and seeded
        with stack.server("asgi") as web:          # gunicorn config.asgi on a spare port
            ...
            stack.postgres.stop(); stack.postgres.start()
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SEPAY_SECRET = "drill-sepay-hmac-secret"  # the scratch deployment's SePay HMAC key (not a real secret)
LOG_DIR = ROOT / "var" / "drills"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def wait_http(
    port: int, timeout: float = 60.0, *, process: subprocess.Popen[bytes] | None = None, answer: bytes = b"HTTP/"
) -> None:
    """Until the server on ``port`` answers ``GET /healthz`` with a status line
    starting with ``answer``: an open port is not enough (gunicorn's master
    listens before any worker runs, and with ``--reuse-port`` the first worker
    resets what was queued there). Fails at once if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on {port} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if probe.recv(64).startswith(answer):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no answer {answer.decode()}… on 127.0.0.1:{port} after {timeout:.0f} s")


def rss_kib(pid: int) -> int:
    """Resident memory of one process, KiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
    return versions[-1] / "bin"


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class ScratchPostgres:
    """A PostgreSQL cluster of the drill's own: initdb on first start, fsync on
    (as in production), trust auth on 127.0.0.1, a port of its own."""

    def __init__(self, name: str = "drill", port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = Path(tempfile.mkdtemp(prefix=f"cho40-{name}-pg-"))
        self.datadir = self.base / "data"
        self.logfile = self.base / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")

    def url(self, db: str = "cho40") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def _ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_postgres([str(_pg_bin() / "pg_ctl"), "-D", str(self.datadir), *args]),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def start(self) -> None:
        if not self.datadir.exists():
            subprocess.run(
                _as_postgres(
                    [
                        str(_pg_bin() / "initdb"),
                        "-D",
                        str(self.datadir),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "--no-sync",
                        "-E",
                        "UTF8",
                    ]
                ),
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=300"
            " -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"
        )
        self._ctl("start", "-w", "-t", "60", "-l", str(self.logfile), "-o", opts)

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clean shutdown, clients disconnected) or ``immediate`` (a crash: recovery on next start)."""
        self._ctl("stop", "-w", "-t", "60", "-m", mode, check=False)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def pids(self) -> list[int]:
        pid = self.postmaster_pid()
        return [pid, *children(pid)] if pid else []

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: the server hangs, connections stay open."""
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def create_database(self, name: str = "cho40") -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]

    def query(self, sql: str, params: list[Any] | None = None, db: str = "cho40") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True, connect_timeout=5) as conn:
            return list(conn.execute(sql, params or []).fetchall())  # type: ignore[arg-type]

    def destroy(self) -> None:
        with suppress(OSError):
            self.thaw()
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class Process:
    """A command started in a process group of its own, output to a log file,
    stopped (TERM, then KILL after ``grace`` s) by that group's pid."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], *, cwd: Path = ROOT) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.cmd = cmd
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, grace: float = 10.0) -> None:
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        else:
            self.signal_group(signal.SIGKILL)  # stragglers of the group
        self._log.close()

    def rss_kib(self) -> int:
        """The group's resident memory: the process and its descendants, KiB."""
        return sum(rss_kib(p) for p in [self.proc.pid, *children(self.proc.pid)])

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ScratchRedis(Process):
    """redis-server on a spare port, nothing kept on disk."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._start()

    def _start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        super().__init__(f"redis-{self.port}", cmd, dict(os.environ))
        wait_port(self.port)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def restart(self) -> None:
        """Start again on the same port after :meth:`stop` (empty: nothing was kept)."""
        self._start()


def django_env(pg_url: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a production-like process on the drill's services."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_", "CELERY_", "DB_"))
    }
    env.update(
        DATABASE_URL=pg_url,
        DJANGO_SECRET_KEY="drill-only-not-secret",
        DJANGO_DEBUG="0",
        LOG_LEVEL="WARNING",
        SEPAY_WEBHOOK_SECRET=SEPAY_SECRET,
        PYTHONDONTWRITEBYTECODE="1",
        CHO_VAR_DIR=str(LOG_DIR / "var"),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Stack:
    """PostgreSQL + Redis of the drill's own, migrated, with one market of
    ``vendors`` active vendors (``codes``: [merchant code, account number]
    pairs to pay them by static-QR content)."""

    def __init__(self, *, vendors: int = 200, redis: bool = True, name: str = "drill") -> None:
        self.vendor_count = vendors
        self.with_redis = redis
        self.name = name
        self.postgres: ScratchPostgres
        self.redis: ScratchRedis | None = None
        self.codes: list[list[str]] = []
        self._processes: list[Process] = []

    def env(self, **extra: str) -> dict[str, str]:
        return django_env(self.postgres.url(), self.redis.url(0) if self.redis else None, **extra)

    def __enter__(self) -> Stack:
        self.postgres = ScratchPostgres(self.name)
        try:
            self.postgres.start()
            self.postgres.create_database()
            if self.with_redis:
                self.redis = ScratchRedis()
            env = self.env()
            manage(env, "migrate", "--noinput")
            manage(env, "createcachetable")
            if self.vendor_count:
                out = subprocess.run(
                    [PYTHON, "-m", "bench.webhooks_seed", str(self.vendor_count)],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=300,
                )
                self.codes = json.loads(out.stdout.strip().splitlines()[-1])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self._processes):
            process.stop()
        if self.redis is not None:
            self.redis.stop()
        self.postgres.destroy()

    def track(self, process: Process) -> Process:
        self._processes.append(process)
        return process

    @contextmanager
    def server(
        self, kind: str = "asgi", *, workers: int = 2, port: int | None = None, **extra: str
    ) -> Iterator[Server]:
        """gunicorn serving ``config.asgi`` (the batching intake, as compose's `webhooks`)
        or ``config.wsgi`` (sync workers, as compose's `web`)."""
        server = Server(kind, self.env(**extra), workers=workers, port=port)
        self._processes.append(server)
        try:
            yield server
        finally:
            server.stop()
            self._processes.remove(server)

    @contextmanager
    def worker(self, *, concurrency: int = 2, name: str = "celery", **extra: str) -> Iterator[Process]:
        """A real Celery worker (prefork) on the drill's Redis."""
        env = self.env(CELERY_TASK_ALWAYS_EAGER="0", **extra)
        cmd = [
            str(Path(PYTHON).parent / "celery"),
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--concurrency",
            str(concurrency),
            "--pool",
            "prefork",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        process = Process(f"{name}-{os.getpid()}", cmd, env)
        self._processes.append(process)
        try:
            yield process
        finally:
            process.stop()
            self._processes.remove(process)


class Server(Process):
    def __init__(self, kind: str, env: dict[str, str], *, workers: int = 2, port: int | None = None) -> None:
        self.kind = kind
        self.port = port or free_port()
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        if kind == "asgi":
            cmd = [gunicorn, "config.asgi:application", "--worker-class", "config.workers.SpreadUvicornWorker"]
            cmd += ["--reuse-port"]  # as the compose ``webhooks`` service runs it
        elif kind == "wsgi":
            cmd = [gunicorn, "config.wsgi:application", "--worker-class", "sync", "--timeout", "60"]
        else:
            raise ValueError(kind)
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--graceful-timeout", "5"]
        super().__init__(f"gunicorn-{kind}-{self.port}", cmd, env)
        wait_http(self.port, timeout=60)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
