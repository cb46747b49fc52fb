"""Celery task names are part of the wire format: beat's schedule and every
message already queued in Redis name a task by it. Each task therefore has an
explicit ``name=``, so that moving a module cannot silently rename it."""

from __future__ import annotations

from django.conf import settings

from config.celery_app import app

# Every task of the project, by the name it is queued under. Changing this
# list means a migration plan for queued messages and beat (docs/architecture.md).
TASK_NAMES = {
    "onboarding.imports.run",
    "onboarding.imports.sweep",
    "payments.expire_payment_requests",
    "payments.mark_stuck_webhook_deliveries",
    "payments.purge_card_batches",
    "payments.purge_refused_webhook_deliveries",
    "payments.render_market_cards",
    "payments.tasks.code_entry.check_rail_payment",
    "payments.tasks.code_entry.reconcile_offline_confirmations",
    "payments.tasks.code_entry.send_sms",
    "payments.tasks.code_entry.sweep_outbound_sms",
    "payments.tasks.code_entry.sweep_pending_rail_payments",
    "stats.fold_changes",
    "stats.send_weekly_digest",
}


def _project_tasks() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_it_registers_every_task_under_its_pinned_name() -> None:
    assert _project_tasks() == TASK_NAMES


def test_it_schedules_only_registered_tasks() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= _project_tasks()


def test_it_sends_the_weekly_digest_on_monday_morning_local_time() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["stats-weekly-digest"]
    schedule = entry["schedule"]

    assert entry["task"] == "stats.send_weekly_digest"
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ({0}, {7}, {1})  # type: ignore[attr-defined]
    assert settings.CELERY_TIMEZONE == "Asia/Ho_Chi_Minh"


def test_a_dead_workers_task_is_handed_out_again_within_bounded_time_and_never_early(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """acks_late + Redis: a task whose whole worker was killed comes back after
    visibility_timeout (kombu's default is an hour). It must come back in
    minutes, yet not before the longest countdown a task waits for (a message
    held for its countdown would otherwise be run twice)."""
    from payments.code_entry.ussd_payments import RAIL_POLL_AFTER
    from payments.sms.tasks import backoff

    monkeypatch.setattr("payments.sms.tasks.random.randint", lambda low, high: high)  # the worst jitter
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    longest_countdown = max(
        max(backoff(n) for n in range(30)),
        30 * 2**3,  # payments.render_market_cards' retries
        RAIL_POLL_AFTER.total_seconds(),
    )

    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert timeout <= 30 * 60
    assert timeout >= longest_countdown + 60
