"""Celery tasks of the bulk import: thin, idempotent, by job id."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="onboarding.imports.run", acks_late=True, ignore_result=True)
def run_import(job_id: int) -> str:
    from onboarding.imports.services import import_run

    job = import_run(job_id=job_id)
    return job.status if job is not None else "already-run"


@shared_task(name="onboarding.imports.sweep", ignore_result=True)
def sweep_imports() -> int:
    from onboarding.imports.services import import_sweep

    return import_sweep()
