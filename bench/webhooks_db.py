"""The scratch PostgreSQL databases of the webhook benchmark: the server URL,
creating and dropping a database, one-value queries, the environment a Django
process needs to use one, the backends serving it (for their CPU), and
pgbench's built-in simple-update for the machine's reference TPS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PGBENCH_DB = "cho40_bench_pgbench"  # the bench's scratch databases are all cho40_bench*
TEMPLATE_DB = "cho40_bench_template"  # migrated once per run, kept; fresh databases are copies of it
_template_migrated: set[str] = set()


def server_url() -> str:
    raw = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432"
    parts = urlsplit(raw)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def db_url(name: str) -> str:
    return f"{server_url()}/{name}"


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def scalar(db: str, sql: str) -> Any:
    import psycopg

    with psycopg.connect(db_url(db), autocommit=True) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


def fresh_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')


def migrated_database(name: str) -> None:
    """A fresh, migrated database ``name``: a copy of the bench's template
    database (``CREATE DATABASE … TEMPLATE``, a fraction of a second), which is
    created when missing and migrated once per process, so that one run pays
    for Django's migrations once, not once per benchmark."""
    import bench

    template = bench.scratch(TEMPLATE_DB)
    if template not in _template_migrated:
        if not scalar("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{template}'"):
            admin(f'CREATE DATABASE "{template}"')
        env = django_env(template, sepay_secret="unused")
        for args in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
            done = subprocess.run(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
            )
            if done.returncode:
                raise RuntimeError(f"manage.py {args[0]} on {template} failed:\n{done.stdout}\n{done.stderr}")
        _template_migrated.add(template)
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def migrated_like_template(db: str) -> bool:
    """Whether ``db`` has exactly the migrations of the template database, when
    that was migrated in this process (so a reused database needs no migrate)."""
    import bench

    template = bench.scratch(TEMPLATE_DB)
    if template not in _template_migrated:
        return False
    sql = "SELECT string_agg(app || '.' || name, ',' ORDER BY app, name) FROM django_migrations"
    try:
        return bool(scalar(db, sql) == scalar(template, sql))
    except Exception:  # no such database or table: not like the template
        return False


def django_env(db: str, *, sepay_secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    env.update(
        DATABASE_URL=db_url(db),
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="0",
        DB_CONN_MAX_AGE="600",
        DB_CONN_HEALTH_CHECKS=os.environ.get("BENCH_WEBHOOKS_HEALTH_CHECKS", "0"),
        LOG_LEVEL="WARNING",
        SEPAY_WEBHOOK_SECRET=sepay_secret,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def seed_vendors(env: dict[str, str], count: int = 500) -> list[list[str]]:
    """Seed the database of ``env`` with one market of ``count`` vendors
    (``bench/webhooks_seed.py``); their [merchant code, account number] pairs."""
    import json

    seeded = subprocess.run(
        [sys.executable, "-m", "bench.webhooks_seed", str(count)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    codes: list[list[str]] = json.loads(seeded.stdout.strip().splitlines()[-1])
    return codes


def backend_pids(db: str) -> list[int]:
    """The PostgreSQL backends serving ``db`` (the gunicorn workers' connections);
    their CPU is readable when the server runs on this machine."""
    import psycopg

    with psycopg.connect(db_url(db), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db]
        ).fetchall()
    return [int(row[0]) for row in rows if Path(f"/proc/{row[0]}/stat").exists()]


class PgBench:
    """pgbench's simple-update (-N, 8 clients, 2 threads) on a scratch database
    initialised once: ``tps(seconds)`` runs it (None without pgbench), as
    often as the caller wants a baseline; ``close()`` drops the database."""

    def __init__(self) -> None:
        import bench

        parts = urlsplit(server_url())
        self.env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432)}
        if parts.username:
            self.env["PGUSER"] = parts.username
        if parts.password:
            self.env["PGPASSWORD"] = parts.password
        self.name = bench.scratch(PGBENCH_DB)
        self.ready: bool | None = None  # initialised on first use

    def _init(self) -> bool:
        import bench

        try:
            fresh_database(self.name)
            subprocess.run(
                ["pgbench", "-i", "-q", "-s", str(bench.size(10, 2)), self.name],
                env=self.env,
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"   pgbench unavailable: {exc}", flush=True)
            return False
        return True

    def tps(self, seconds: int) -> float | None:
        if self.ready is None:
            self.ready = self._init()
        if not self.ready:
            return None
        try:
            out = subprocess.run(
                ["pgbench", "-N", "-c", "8", "-j", "2", "-T", str(seconds), self.name],
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
                timeout=seconds + 120,
            ).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"   pgbench failed: {exc}", flush=True)
            return None
        match = re.search(r"tps = ([0-9.]+)", out)
        return float(match.group(1)) if match else None

    def close(self) -> None:
        try:
            admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as exc:  # cleanup only
            print(f"   could not drop {self.name}: {exc}", flush=True)


def pgbench_tps(seconds: int) -> float | None:
    """pgbench -N (simple-update, 8 clients) TPS on a scratch database, None without pgbench."""
    runner = PgBench()
    try:
        return runner.tps(seconds)
    finally:
        runner.close()
