"""The SMS outbox: written with the payment, sent by a task, swept when the broker was down."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

import pytest
from django.utils import timezone

from common import tasks as common_tasks
from config.celery_app import app
from payments.models import OutboundSms, Payment
from payments.sms import tasks
from payments.sms.backends import ConsoleSMSBackend
from payments.sms.services import SMS_MAX_ATTEMPTS
from tests.broker_support import DEAD_BROKER, broker_at, broker_url_in_use
from tests.payments.code_entry.support import CUSTOMER, code_in_sms, pay, sms, ussd_secret

__all__ = ["sms", "ussd_secret"]  # fixtures


def _age_outbox() -> None:
    """Make every row older than the sweep's one-minute grace."""
    OutboundSms.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))


@pytest.fixture
def dead_broker(sms: object) -> Iterator[None]:
    """A real broker outage: tasks are published to a Redis port nobody listens on."""
    with broker_at(DEAD_BROKER, eager=False):
        assert broker_url_in_use().endswith("127.0.0.1:1/0")  # not a pool left bound to a live broker
        yield


def test_it_records_the_payment_and_its_sms_while_the_broker_is_down(
    cast, sms, ussd_secret, dead_broker, django_capture_on_commit_callbacks
):
    started = time.monotonic()
    phone = pay("outage-1", cast.vendor, 60_000, on_commit=django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started

    assert phone.replies[-1].startswith("END Da tra 60.000d")
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert OutboundSms.objects.filter(status=OutboundSms.Status.PENDING).count() == 2
    assert sms.outbox == []
    # A publish was tried and failed, which marked the broker down; the other
    # tasks were not even tried.
    assert common_tasks._broker_down_until > time.monotonic()
    assert elapsed < 10, elapsed

    # The broker is back: the periodic sweep sends what the outage left.
    app.conf.task_always_eager = True
    common_tasks._broker_down_until = 0.0
    assert tasks.sweep_outbound_sms() == 0  # younger than a minute: still the first task's
    _age_outbox()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_outbound_sms() == 2
    assert sorted(m.to for m in sms.outbox) == sorted([CUSTOMER, cast.vendor.phone])
    assert OutboundSms.objects.filter(status=OutboundSms.Status.SENT).count() == 2


def test_it_retries_a_gateway_failure_and_never_resends_a_sent_sms(
    cast, sms, ussd_secret, django_capture_on_commit_callbacks
):
    sms.fail_next = 1
    pay("gw-1", cast.vendor, 12_000, on_commit=django_capture_on_commit_callbacks)

    failed = OutboundSms.objects.get(status=OutboundSms.Status.PENDING)
    assert (failed.attempts, failed.last_error) == (1, "gateway unavailable (simulated)")
    assert len(sms.outbox) == 1

    _age_outbox()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_outbound_sms()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (OutboundSms.Status.SENT, 2, "")
    assert len(sms.outbox) == 2
    assert code_in_sms(sms.outbox[0].body) == code_in_sms(sms.outbox[1].body)

    # A redelivered task or a later sweep finds nothing to send.
    assert tasks.send_sms(failed.pk) == "skipped"
    assert tasks.sweep_outbound_sms() == 0
    assert len(sms.outbox) == 2


def test_it_gives_up_after_the_last_attempt(cast, sms):
    row = OutboundSms.objects.create(to=CUSTOMER, body="Cho 4.0: test")
    sms.fail_next = SMS_MAX_ATTEMPTS
    outcomes = [tasks.send_sms(row.pk) for _ in range(SMS_MAX_ATTEMPTS)]

    assert outcomes == ["retry"] * (SMS_MAX_ATTEMPTS - 1) + ["failed"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundSms.Status.FAILED, SMS_MAX_ATTEMPTS)
    _age_outbox()
    assert tasks.sweep_outbound_sms() == 0


def test_it_logs_to_the_console_in_the_demo(caplog):
    with caplog.at_level(logging.INFO, logger="payments.sms"):
        message_id = ConsoleSMSBackend().send(to=CUSTOMER, body="Cho 4.0: xin chao")
    assert message_id.startswith("console-")
    assert "xin chao" in caplog.text and CUSTOMER in caplog.text
