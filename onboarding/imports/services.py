"""Bulk import of traders: start an import from an uploaded file, run it.

``import_start`` reads the file and records an :class:`ImportJob`; a file of
at most ``SYNC_MAX_ROWS`` rows is then run at once, within the request, and a
larger one by the Celery task ``onboarding.imports.run`` (enqueued when the
job is committed; with ``CELERY_TASK_ALWAYS_EAGER``, as ``make run`` has it,
the task runs in-process right after the commit).

``import_run`` checks every row (``onboarding.imports.rows``) and writes the
traders with ``bulk_create`` in one transaction, exactly as
``vendors.services.vendor_create`` would have made them one by one: status
pending, ``onboarded_by`` the uploader, a unique merchant code, and a
``Consent`` row (method "import", the current text and version, collected by
the uploader, who confirmed that each trader signed it on paper). By default
nothing is written when any row fails (all or nothing); the uploader may
instead ask for the good rows to be written and the others listed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Final

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chopay.identifiers import generate_merchant_code
from common.errors import Invalid, NotFound
from common.tasks import enqueue_on_commit
from market import roles
from market.models import Market, Province
from onboarding.imports.models import ImportJob
from onboarding.imports.rows import CleanRow, RowChecker, RowError
from onboarding.imports.spreadsheet import parse
from vendors.consent import CURRENT
from vendors.models import Consent, Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SYNC_MAX_ROWS: Final = 500
RUN_TASK: Final = "onboarding.imports.run"
_CODE_TRIES: Final = 5
_IN_CHUNK: Final = 900
_PROGRESS_EVERY: Final = 500


def import_start(
    *,
    actor: User,
    file_name: str,
    content: bytes,
    consent_confirmed: bool,
    market: Market | None = None,
    province: Province | None = None,
    all_or_nothing: bool = True,
) -> ImportJob:
    """Record an import of ``content`` into ``market`` (a board's import) or
    the markets of ``province`` (an officer's), and run it or enqueue it.

    Raises ``NotFound`` when ``actor`` does not manage the market (volunteers
    never do) or oversee the province, and ``Invalid`` for a file that cannot
    be read or without the uploader's confirmation that every trader's consent
    was collected on paper."""
    if (market is None) == (province is None):
        raise ValueError("give a market or a province")
    if market is not None and not roles.manages_market(actor, market.pk):
        raise NotFound("market_not_found", _("No such market."))
    if province is not None and not roles.oversees_province(actor, province.pk):
        raise NotFound("province_not_found", _("No such province."))
    if not consent_confirmed:
        raise Invalid(
            "consent_not_confirmed",
            _("Confirm that every trader in the file signed their consent on paper."),
            field="consent_confirmed",
        )
    parsed = parse(file_name=file_name, content=content, with_market=province is not None)
    with transaction.atomic():
        job = ImportJob.objects.create(
            uploaded_by=actor,
            market=market,
            province=province,
            file_name=file_name[:255],
            all_or_nothing=all_or_nothing,
            consent_confirmed=True,
            total_rows=len(parsed.rows),
            rows=parsed.rows,
            language=translation.get_language() or "vi",
        )
        if len(parsed.rows) > SYNC_MAX_ROWS:
            enqueue_on_commit(RUN_TASK, job.pk)
    if len(parsed.rows) <= SYNC_MAX_ROWS:
        import_run(job_id=job.pk)
        job.refresh_from_db()
    return job


def import_sweep(*, older_than_seconds: int = 120) -> int:
    """Enqueue again the jobs still queued after ``older_than_seconds``: their
    task message was lost (a broker outage when it was sent). A job runs
    once whatever the number of messages (``_claim``)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=cutoff).values_list("pk", flat=True)
    )
    for job_id in ids:
        enqueue_on_commit(RUN_TASK, job_id)
    return len(ids)


def _claim(job_id: int) -> ImportJob | None:
    """Take a queued job for running; ``None`` if another run took it or it
    already ran (a redelivered task message)."""
    taken = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not taken:
        return None
    return ImportJob.objects.select_related("uploaded_by", "market", "province").get(pk=job_id)


def import_run(*, job_id: int) -> ImportJob | None:
    """Check and write the rows of a queued job; idempotent (a job runs once)."""
    job = _claim(job_id)
    if job is None:
        return None
    with translation.override(job.language or "vi"):
        try:
            _run(job)
        except IntegrityError:
            # A phone or an account of the file registered in the same market
            # since it was checked: the constraint refused the whole write.
            _fail(
                job,
                _(
                    "A trader of this file was registered by someone else meanwhile. Nothing was imported; upload the file again to see which."
                ),
            )
        except Exception:
            logger.exception("import %s failed", job_id)
            _fail(
                job,
                _("The import failed and nothing was imported. Try again; if it fails again, tell the administrator."),
            )
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, failure=message, finished_at=timezone.now(), rows=[]
    )


def _markets(job: ImportJob) -> list[Market]:
    if job.market is not None:
        return [job.market]
    return list(Market.objects.filter(province_id=job.province_id))


def _finish(job: ImportJob, *, status: str, created: int, errors: list[RowError]) -> None:
    errors = sorted(errors, key=lambda error: (error.row, error.column))
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        processed_rows=job.total_rows,
        created_count=created,
        error_count=len(errors),
        errors=[error.as_dict() for error in errors],
        rows=[],
        finished_at=timezone.now(),
    )


def _run(job: ImportJob) -> None:
    actor = job.uploaded_by
    if actor is None or not _may_import(actor, job):
        _fail(job, _("The uploader may no longer import into this market."))
        return
    checker = RowChecker(actor=actor, market=job.market, markets=_markets(job) if job.market is None else ())

    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)

    clean, errors = checker.check_rows(job.rows, progress=progress, every=_PROGRESS_EVERY)
    with transaction.atomic():
        _lock_accounts(clean)
        errors.extend(checker.database_conflicts(clean))
        if errors and job.all_or_nothing:
            _finish(job, status=ImportJob.Status.REJECTED, created=0, errors=errors)
            return
        failed_rows = {error.row for error in errors}
        to_write = [row for row in clean if row.row not in failed_rows]
        created = write_vendors(rows=to_write, actor=actor)
        _finish(job, status=ImportJob.Status.DONE, created=created, errors=errors)


def _may_import(actor: User, job: ImportJob) -> bool:
    if job.market_id is not None:
        return roles.manages_market(actor, job.market_id)
    return job.province_id is not None and roles.oversees_province(actor, job.province_id)


def _lock_accounts(rows: list[CleanRow]) -> None:
    """The lock ``vendors.services.account_claim_check`` takes on an account,
    for every account of the file at once: a registration of the same account
    in another market waits until this import commits, and the holders read
    next are the final ones. SQLite serialises writers by itself."""
    if connection.vendor != "postgresql" or not rows:
        return
    keys = sorted({f"vendors.account:{row.bank_id}:{row.account_number}" for row in rows})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest(%s::text[]) AS k", [keys]
        )


def _fresh_codes(count: int) -> list[str]:
    """``count`` merchant codes, distinct and unused (checked in one query per
    900); the unique constraint still guards against a registration racing."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {generate_merchant_code() for _ in range(count - len(codes))} - codes
        taken: set[str] = set()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            taken.update(Vendor.objects.filter(merchant_code__in=chunk).values_list("merchant_code", flat=True))
        codes |= wanted - taken
    return list(codes)


def write_vendors(*, rows: list[CleanRow], actor: User) -> int:
    """Insert checked rows as pending vendors with their consent, in the
    caller's transaction. Exactly what ``vendor_create`` stores for each."""
    if not rows:
        return 0
    for attempt in range(_CODE_TRIES):
        now = timezone.now()
        codes = _fresh_codes(len(rows))
        vendors = [
            Vendor(
                market_id=row.market_id,
                full_name=row.full_name,
                phone=row.phone,
                stall_label=row.stall_label,
                goods_category=row.goods_category,
                bank_id=row.bank_id,
                account_number=row.account_number,
                account_name=row.account_name,
                merchant_code=code,
                status=Vendor.Status.PENDING,
                onboarded_by=actor,
                onboarded_at=now,
            )
            for row, code in zip(rows, codes, strict=True)
        ]
        try:
            with transaction.atomic():
                Vendor.objects.bulk_create(vendors, batch_size=2000)
        except IntegrityError as exc:
            # A merchant code taken by a registration since it was checked; any
            # other conflict (a phone or an account registered meanwhile in the
            # same market) is the constraint refusing the whole import.
            if "merchant_code" not in str(exc) or attempt == _CODE_TRIES - 1:
                raise
            continue
        Consent.objects.bulk_create(
            [
                Consent(
                    vendor=vendor,
                    text=CURRENT.text,
                    version=CURRENT.version,
                    language=CURRENT.language,
                    method=Consent.Method.IMPORT,
                    collected_by=actor,
                    collected_at=now,
                )
                for vendor in vendors
            ],
            batch_size=2000,
        )
        return len(vendors)
    raise RuntimeError("could not allocate unique merchant codes")
