"""One bulk import: who uploaded which file for which market or province,
how far it got, and what it found wrong."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import Market, Province


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Checking and importing")
        DONE = "done", _("Imported")
        REJECTED = "rejected", _("Rejected: errors in the file")
        FAILED = "failed", _("Failed")

    FINISHED = frozenset({Status.DONE, Status.REJECTED, Status.FAILED})

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    # One of the two: a board's import names its market, a province officer's
    # import its province (each row then names its market).
    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("market")
    )
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=True)
    consent_confirmed = models.BooleanField(_("consent collected on paper, confirmed by the uploader"), default=False)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("traders imported"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # [{"row": 3, "column": "phone", "message": "…"}, …], in row order.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # The cells of the file as read ([{column key: text}, …], with "_row"), kept
    # until the import has run; the worker reads them instead of a stored file.
    rows = models.JSONField(default=list, blank=True, editable=False)
    # The uploader's page language: the row errors are written in it.
    language = models.CharField(_("language"), max_length=8, default="vi")
    failure = models.TextField(_("failure"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk import")
        verbose_name_plural = _("bulk imports")
        indexes = [models.Index(fields=["market", "created_at"]), models.Index(fields=["province", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(market__isnull=False) | models.Q(province__isnull=False),
                name="import_job_has_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def percent(self) -> int:
        """How far along, for the progress bar: checking the rows is most of
        the work; the last step (writing, in one transaction) shows as 95 %."""
        if self.finished:
            return 100
        if not self.total_rows:
            return 0
        return min(95, int(95 * self.processed_rows / self.total_rows))

    def progress(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": str(self.get_status_display()),
            "finished": self.finished,
            "percent": self.percent,
            "total": self.total_rows,
            "processed": self.processed_rows,
            "created": self.created_count,
            "errors": self.error_count,
        }
