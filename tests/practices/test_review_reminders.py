"""Managers' digests mention people without expectations N days into a cycle, and
missing evaluations after it ends; the mention is re-checked when the digest is sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command

from deliverables import reminders
from deliverables.models import Digest, DigestStatus
from deliverables.reviews import reminders as review_reminders
from deliverables.reviews import services
from deliverables.reviews.models import ReviewReminder, ReviewReminderKind
from tests.practices.conftest import everyday

pytestmark = pytest.mark.django_db


def _at(day) -> datetime:
    return datetime.combine(day, datetime.min.time(), ZoneInfo("UTC")).replace(hour=10)


def _plan(practices, day) -> dict:
    everyday(practices.people["manager"])
    everyday(practices.people["other_manager"])
    return {
        digest.recipient.username: [
            (item.kind, item.person_id) for item in digest.extra.get("reviews", [])
        ]
        for digest in reminders.reminder_plan(now=_at(day))
    }


def test_no_mention_before_the_expectations_day(practices):
    day = practices.cycle.expectations_due_on() - timedelta(days=1)
    plan = _plan(practices, day)
    assert all(not items for items in plan.values())


def test_people_without_expectations_are_mentioned_from_day_n(practices):
    plan = _plan(practices, practices.cycle.expectations_due_on())
    other = practices.people["other_member"].pk
    person = practices.people["person"].pk
    missing = ReviewReminderKind.EXPECTATIONS_MISSING
    assert plan["manager"] == [(missing, other)]
    assert sorted(plan["other_manager"]) == sorted([(missing, person), (missing, other)])


def test_missing_evaluations_after_the_cycle(practices):
    day = practices.cycle.end_date + timedelta(days=1)
    plan = _plan(practices, day)
    other = practices.people["other_member"].pk
    # `person` has a shared evaluation from `manager`; `other_member` has nothing.
    assert plan["manager"] == [(ReviewReminderKind.EVALUATION_MISSING, other)]


def test_evaluation_reminders_stop_after_a_while(practices):
    day = practices.cycle.end_date + timedelta(days=review_reminders.EVALUATION_REMINDER_DAYS + 1)
    assert all(not items for items in _plan(practices, day).values())


def test_digest_content_and_recheck_at_send_time(practices, django_capture_on_commit_callbacks):
    everyday(practices.people["manager"])
    now = _at(practices.cycle.expectations_due_on() + timedelta(days=1))
    sent = []
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=now, send=sent.append)
    manager = practices.people["manager"]
    digest = Digest.objects.get(recipient=manager)
    assert ReviewReminder.objects.filter(digest=digest).count() == 1
    assert reminders.digest_send(digest_id=digest.pk, now=now)
    message = mail.outbox[-1]
    assert message.subject == "MLTeam: 1 person without your expectations"
    assert "People still without your expectations" in message.body
    assert practices.people["other_member"].get_full_name() in message.body
    assert f"/reviews/{practices.cycle.pk}/" in message.body
    # A second sweep the same day adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=now + timedelta(hours=1), send=sent.append)
    assert Digest.objects.filter(recipient=manager).count() == 1


def test_expectations_written_before_sending_cancel_the_mention(
    practices, django_capture_on_commit_callbacks
):
    everyday(practices.people["manager"])
    now = _at(practices.cycle.expectations_due_on() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=now, send=lambda digest_id: None)
    services.expectations_write(
        cycle=practices.cycle,
        person=practices.people["other_member"],
        actor=practices.people["manager"],
        text="Ship the pipeline.",
        deliverables=[],
    )
    digest = Digest.objects.get(recipient=practices.people["manager"])
    assert not reminders.digest_send(digest_id=digest.pk, now=now)
    digest.refresh_from_db()
    assert digest.status == DigestStatus.CANCELLED
    assert mail.outbox == []


def test_a_demoted_manager_hears_nothing_about_reviews(practices):
    from django.contrib.auth.models import Group

    manager = practices.people["manager"]
    manager.groups.remove(Group.objects.get(name="Managers"))
    day = practices.cycle.end_date + timedelta(days=1)
    plan = _plan(practices, day)
    assert "manager" not in plan


def test_a_moved_cycle_drops_its_mention_at_send_time(
    practices, django_capture_on_commit_callbacks
):
    everyday(practices.people["manager"])
    now = _at(practices.cycle.expectations_due_on() + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=now, send=lambda digest_id: None)
    # The cycle is moved to start later: expectations are not due yet after all.
    cycle = practices.cycle
    services.cycle_update(
        cycle=cycle,
        version=cycle.version,
        name=cycle.name,
        start_date=now.date(),
        end_date=cycle.end_date + timedelta(days=30),
        expectations_due_days=14,
    )
    digest = Digest.objects.get(recipient=practices.people["manager"])
    assert not reminders.digest_send(digest_id=digest.pk, now=now)
    assert mail.outbox == []


def test_evaluations_to_write_are_counted_in_the_subject(
    practices, django_capture_on_commit_callbacks
):
    everyday(practices.people["manager"])
    now = _at(practices.cycle.end_date + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(
            now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now)
        )
    (message,) = [m for m in mail.outbox if m.to == [practices.people["manager"].email]]
    assert message.subject == "MLTeam: 1 evaluation to write and share"


def test_dry_run_names_people_and_cycles(practices, capsys):
    everyday(practices.people["manager"])
    now = _at(practices.cycle.expectations_due_on() + timedelta(days=1))
    call_command("send_reminders", "--dry-run", "--now", now.isoformat())
    out = capsys.readouterr().out
    assert "Mari Kobayashi <" in out
    assert f"Aiko Tanaka ({practices.cycle.name})" in out
    assert "person " not in out and "cycle " not in out
