"""Reads for the bulk import, always through the asker's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from market import roles
from onboarding.imports.models import ImportJob

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def import_job_for(*, user: User | AnonymousUser, job_id: int) -> ImportJob | None:
    """The job, if ``user`` may see it: whoever manages its market, or
    oversees its province (a province's officers see every board's import)."""
    job = ImportJob.objects.select_related("market", "province", "uploaded_by").defer("rows").filter(pk=job_id).first()
    if job is None:
        return None
    if job.market_id is not None:
        return job if roles.manages_market(user, job.market_id) else None
    return job if job.province_id and roles.oversees_province(user, job.province_id) else None


def recent_imports(*, market_id: int | None = None, province_code: str | None = None) -> QuerySet[ImportJob]:
    """The last imports into a market or a province, newest first (the caller checked the scope)."""
    jobs = ImportJob.objects.select_related("uploaded_by").defer("rows", "errors")
    if market_id is not None:
        return jobs.filter(market_id=market_id)[:5]
    return jobs.filter(province_id=province_code)[:5]
