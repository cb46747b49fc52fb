"""`make drills`: fault and abuse drills, written up in docs/reliability.md.

Each drill is a module ``drills.drill_<name>`` exposing ``TITLE`` (one line),
``QUICK`` (True when it runs in a couple of minutes and CI runs it) and
``run(ctx) -> DrillResult``. A drill starts what it needs itself — PostgreSQL,
Redis, Celery workers and the web servers — through :mod:`drills.services`, on
spare ports and data directories under ``var/drills/`` (never the shared
services on 5432/6379), bounded in time, and stops everything it started by
pid. :mod:`drills.report` keeps each drill's latest result in
``docs/reliability.json`` and regenerates ``docs/reliability.md`` from it, with
the machine and the date of every run.
"""
