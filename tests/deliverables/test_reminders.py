"""Reminder digests: when they are due, what they say, and that each goes out once."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from deliverables import reminders
from deliverables.models import (
    Deliverable,
    Digest,
    DigestStatus,
    Reminder,
    ReminderKind,
    ReminderPreference,
)
from deliverables.services import deliverable_create
from roles.services import membership_add, project_archive, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db

MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)  # a Monday


def _project(manager=None, **kwargs):
    manager = manager or manager_user()
    return project_create(
        name=f"P{Deliverable.objects.count()}-{manager.pk}", managers=[manager], **kwargs
    )


def _deliverable(project, owner, due: date | None, status="not_started", slug="analysis-report"):
    if not project.memberships.filter(user=owner).exists():
        membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type(slug),
        title=f"{slug} for {owner.username}",
        owner=owner,
        due_date=due,
    )
    if status != "not_started":
        Deliverable.objects.filter(pk=deliverable.pk).update(status=status)
    return deliverable


_capture = None


@pytest.fixture(autouse=True)
def _run_on_commit_callbacks(django_capture_on_commit_callbacks):
    """Tests run inside a transaction; run what the sweep defers to commit, as commit would."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def run_sweep(now, send):
    with _capture(execute=True):
        return reminders.reminder_sweep(now=now, send=send)


def _sweep(now):
    return run_sweep(now, lambda pk: reminders.digest_send(digest_id=pk, now=now))


def _digest_for(user) -> str:
    (message,) = [m for m in mail.outbox if m.to == [user.email]]
    return message.body


# --- when ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), True),  # Monday 09:00
        (datetime(2026, 11, 30, 8, 59, tzinfo=UTC), False),  # before the hour
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), True),  # later the same day still counts
    ],
)
def test_digest_day_follows_hour_and_working_days(now, due):
    preference = ReminderPreference(hour=9, time_zone="UTC", working_days="0,1,2,3,4")
    assert (reminders.digest_day(preference, now) is not None) is due


def test_digest_day_is_the_recipients_local_day():
    tokyo = ReminderPreference(hour=9, time_zone="Asia/Tokyo", working_days="0,1,2,3,4")
    # 00:30 UTC on Monday is 09:30 in Tokyo on Monday.
    assert reminders.digest_day(tokyo, datetime(2026, 11, 30, 0, 30, tzinfo=UTC)) == date(
        2026, 11, 30
    )
    # 23:30 UTC on Sunday is 08:30 on Monday in Tokyo: not yet.
    assert reminders.digest_day(tokyo, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) is None


def test_digest_hour_follows_daylight_saving_time():
    new_york = ReminderPreference(hour=9, time_zone="America/New_York", working_days="0,1,2,3,4")
    # Friday 6 March 2026 (EST, UTC-5): 09:00 local is 14:00 UTC.
    assert reminders.digest_day(new_york, datetime(2026, 3, 6, 13, 30, tzinfo=UTC)) is None
    assert reminders.digest_day(new_york, datetime(2026, 3, 6, 14, 0, tzinfo=UTC)) == date(
        2026, 3, 6
    )
    # Monday 9 March 2026, after the change to EDT (UTC-4): 09:00 local is 13:00 UTC.
    assert reminders.digest_day(new_york, datetime(2026, 3, 9, 13, 0, tzinfo=UTC)) == date(
        2026, 3, 9
    )
    assert reminders.digest_day(new_york, datetime(2026, 3, 9, 12, 59, tzinfo=UTC)) is None


def test_pause_holds_digests_through_its_last_day():
    preference = ReminderPreference(
        hour=9, time_zone="UTC", working_days="0,1,2,3,4", paused_until=date(2026, 11, 30)
    )
    assert reminders.digest_day(preference, MONDAY_0930_UTC) is None
    assert reminders.digest_day(preference, MONDAY_0930_UTC + timedelta(days=1)) == date(
        2026, 12, 1
    )


def test_due_soon_window_is_the_recipients(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    ReminderPreference.objects.create(user=owner, time_zone="UTC", due_soon_days=3)
    project = _project()
    inside = _deliverable(project, owner, date(2026, 12, 3))
    _deliverable(project, owner, date(2026, 12, 4), slug="prd")
    _sweep(MONDAY_0930_UTC)
    assert list(Reminder.objects.values_list("deliverable_id", "kind", "days")) == [
        (inside.pk, ReminderKind.DUE_SOON, 3)
    ]


# --- what ---------------------------------------------------------------------------------


def test_owner_digest_lists_overdue_and_due_soon_with_links(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory(first_name="Aiko")
    project = _project()
    _deliverable(project, owner, date(2026, 11, 25))
    _deliverable(project, owner, date(2026, 12, 1), slug="prd")
    _deliverable(project, owner, date(2026, 12, 20), slug="deployed-model")
    _sweep(MONDAY_0930_UTC)
    body = _digest_for(owner)
    assert "5 days late" in body and "due in 1 day" in body
    assert "deployed-model" not in body
    assert f"/deliverables/{Deliverable.objects.get(due_date=date(2026, 11, 25)).pk}/" in body
    message = mail.outbox[0]
    assert message.alternatives[0][1] == "text/html"
    assert "1 overdue, 1 due soon" in message.subject


def test_managers_get_escalations_grouped_by_project_and_role(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(first_name="Mari"), UserFactory()
    project = _project(manager, escalation_days=3)
    _deliverable(project, owner, date(2026, 11, 26))  # 4 days late: escalated
    _deliverable(project, owner, date(2026, 11, 27), slug="prd")  # 3 days late: not yet
    _sweep(MONDAY_0930_UTC)
    body = _digest_for(manager)
    assert "Well overdue on your projects" in body
    assert f"{project.name}\n  Data scientist\n" in body
    assert "analysis-report" in body and "prd for" not in body
    assert "4 days late" in body


def test_a_managers_own_overdue_work_is_listed_once_in_their_own_section(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    project = _project(manager, escalation_days=1)
    own = _deliverable(project, manager, date(2026, 11, 20))
    theirs = _deliverable(project, owner, date(2026, 11, 20), slug="prd")
    _sweep(MONDAY_0930_UTC)
    body = _digest_for(manager)
    (message,) = [m for m in mail.outbox if m.to == [manager.email]]
    html = message.alternatives[0][0]
    for text in (body, html):
        assert text.count(f"/deliverables/{own.pk}/") == 1
        assert text.count(f"/deliverables/{theirs.pk}/") == 1
        own_part, escalations = text.split("Well overdue on your projects")
        assert f"/deliverables/{own.pk}/" in own_part and "Overdue" in own_part
        assert f"/deliverables/{theirs.pk}/" in escalations
    assert set(Reminder.objects.filter(recipient=manager).values_list("deliverable", "kind")) == {
        (own.pk, ReminderKind.OVERDUE),
        (theirs.pk, ReminderKind.ESCALATION),
    }


def test_overdue_work_that_is_also_stale_is_listed_once(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    late = _deliverable(_project(), owner, date(2026, 11, 25), status="in_progress")
    Deliverable.objects.filter(pk=late.pk).update(updated_at=MONDAY_0930_UTC - timedelta(days=15))
    _sweep(MONDAY_0930_UTC)
    body = _digest_for(owner)
    assert body.count(f"/deliverables/{late.pk}/") == 1
    assert "5 days late" in body and "no update for" not in body
    assert list(Reminder.objects.filter(recipient=owner).values_list("kind", flat=True)) == [
        ReminderKind.OVERDUE
    ]


def _subject_for(user) -> str:
    (message,) = [m for m in mail.outbox if m.to == [user.email]]
    return message.subject


def test_the_subject_names_only_what_the_digest_holds(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    project = _project(manager, escalation_days=1)
    for slug in ("analysis-report", "prd"):
        _deliverable(project, owner, date(2026, 11, 20), slug=slug)
    _sweep(MONDAY_0930_UTC)
    assert _subject_for(manager) == "MLTeam: 2 well overdue on your projects"
    assert _subject_for(owner) == "MLTeam: 2 overdue"


def test_the_subject_counts_every_section_with_plurals(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    project = _project(manager, escalation_days=1)
    _deliverable(project, manager, date(2026, 11, 29))  # 1 day late, own work
    _deliverable(project, manager, date(2026, 12, 1), slug="prd")  # due soon
    _deliverable(project, manager, date(2026, 12, 2), slug="deployed-model")  # due soon
    stale = _deliverable(project, manager, None, slug="design-document", status="in_progress")
    Deliverable.objects.filter(pk=stale.pk).update(updated_at=MONDAY_0930_UTC - timedelta(days=15))
    _deliverable(project, owner, date(2026, 11, 20), slug="data-pipeline")  # escalated
    _sweep(MONDAY_0930_UTC)
    assert _subject_for(manager) == (
        "MLTeam: 1 overdue, 2 due soon, 1 with no recent update, 1 well overdue on your projects"
    )


def test_the_subject_is_in_the_recipients_language(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    ReminderPreference.objects.create(user=manager, time_zone="UTC", language="ja")
    project = _project(manager, escalation_days=1)
    for slug in ("analysis-report", "prd", "deployed-model"):
        _deliverable(project, owner, date(2026, 11, 20), slug=slug)
    _sweep(MONDAY_0930_UTC)
    subject = _subject_for(manager)
    assert subject.startswith("MLTeam") and "3" in subject
    assert "0" not in subject and "overdue" not in subject


def test_stale_in_progress_work_is_mentioned_to_its_owner(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    stale = _deliverable(_project(), owner, None, status="in_progress")
    Deliverable.objects.filter(pk=stale.pk).update(updated_at=MONDAY_0930_UTC - timedelta(days=15))
    _sweep(MONDAY_0930_UTC)
    assert "no update for 15 days" in _digest_for(owner)


def test_digest_is_in_the_recipients_language(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    ReminderPreference.objects.create(user=owner, time_zone="UTC", language="ja")
    _deliverable(_project(), owner, date(2026, 11, 25))
    _sweep(MONDAY_0930_UTC)
    assert "Overdue" not in _digest_for(owner)


def test_nothing_for_inactive_people_archived_projects_or_paused(settings):
    settings.TIME_ZONE = "UTC"
    inactive, paused, archived_owner = UserFactory(), UserFactory(), UserFactory()
    project = _project()
    _deliverable(project, inactive, date(2026, 11, 20))
    _deliverable(project, paused, date(2026, 11, 20), slug="prd")
    ReminderPreference.objects.create(user=paused, time_zone="UTC", paused_until=date(2026, 12, 31))
    inactive.is_active = False
    inactive.save()
    old = _project()
    _deliverable(old, archived_owner, date(2026, 11, 20))
    project_archive(project=old, actor=None, version=None)
    _sweep(MONDAY_0930_UTC)
    recipients = {m.to[0] for m in mail.outbox}
    assert not recipients & {inactive.email, paused.email, archived_owner.email}


def test_a_digest_lists_only_what_its_recipient_may_see(settings):
    """A manager of one project hears nothing about another project's overdue work."""
    settings.TIME_ZONE = "UTC"
    mine, theirs = manager_user(), manager_user()
    owner = UserFactory()
    _deliverable(_project(mine), owner, date(2026, 11, 1))
    hidden = _deliverable(_project(theirs), owner, date(2026, 11, 1), slug="prd")
    _sweep(MONDAY_0930_UTC)
    assert hidden.title not in _digest_for(mine)
    assert hidden.title in _digest_for(theirs)


# --- exactly once -------------------------------------------------------------------------


def test_running_the_sweep_again_sends_nothing_new(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    _deliverable(_project(), owner, date(2026, 11, 25))
    assert _sweep(MONDAY_0930_UTC)["created"] >= 1
    sent = len(mail.outbox)
    assert _sweep(MONDAY_0930_UTC + timedelta(minutes=15))["created"] == 0
    assert len(mail.outbox) == sent
    # The next working day brings a new digest.
    _sweep(MONDAY_0930_UTC + timedelta(days=1))
    assert len([m for m in mail.outbox if m.to == [owner.email]]) == 2


def test_a_digest_whose_sender_died_is_sent_when_its_lease_ends(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    _deliverable(_project(escalation_days=30), owner, date(2026, 11, 25))
    # The sweep hands the digest to a worker that claims it and dies before sending.
    run_sweep(MONDAY_0930_UTC, lambda pk: reminders._claim(pk, MONDAY_0930_UTC))
    digest = Digest.objects.get(recipient=owner)
    assert digest.status == DigestStatus.SENDING and mail.outbox == []
    _sweep(MONDAY_0930_UTC + timedelta(minutes=5))  # lease still running: nobody else sends
    assert mail.outbox == []
    _sweep(MONDAY_0930_UTC + reminders.lease() + timedelta(minutes=1))
    assert len(mail.outbox) == 1
    digest.refresh_from_db()
    assert digest.status == DigestStatus.SENT


def test_a_broker_outage_while_handing_over_loses_nothing(settings):
    """The hand-over fails for real (no broker on that port); the next sweep sends."""
    from kombu import Connection

    from deliverables.tasks import send_digest

    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    _deliverable(_project(escalation_days=30), owner, date(2026, 11, 25))

    def enqueue_to_a_dead_broker(pk):
        with Connection("redis://127.0.0.1:1/0", connect_timeout=1) as dead:
            send_digest.apply_async(args=[pk], connection=dead, retry=False)

    run_sweep(MONDAY_0930_UTC, enqueue_to_a_dead_broker)
    assert Digest.objects.get(recipient=owner).status == DigestStatus.PENDING
    assert mail.outbox == []
    _sweep(MONDAY_0930_UTC + reminders.GRACE + timedelta(minutes=1))
    assert len(mail.outbox) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smtp_failure_then_recovery_sends_exactly_once(settings):
    """A real SMTP conversation: refused while no server listens, then accepted."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Inbox(Message):
        def handle_message(self, message):
            received.append(message)

    settings.TIME_ZONE = "UTC"
    port = _free_port()
    owner = UserFactory()
    _deliverable(_project(escalation_days=30), owner, date(2026, 11, 25))
    with override_settings(
        EMAIL_BACKEND="mlteam.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=2,
    ):
        failures = []

        def send(pk, now):
            try:
                reminders.digest_send(digest_id=pk, now=now)
            except reminders.DigestSendFailed as failure:
                failures.append(failure)

        run_sweep(MONDAY_0930_UTC, lambda pk: send(pk, MONDAY_0930_UTC))
        assert len(failures) == 1
        digest = Digest.objects.get(recipient=owner)
        assert digest.status == DigestStatus.PENDING and digest.attempts == 1 and digest.last_error
        retry_at = digest.next_attempt_at

        server = Controller(Inbox(), hostname="127.0.0.1", port=port)
        server.start()
        try:
            early = retry_at - timedelta(seconds=30)
            run_sweep(early, lambda pk: send(pk, early))  # backing off
            assert received == []
            later = retry_at + timedelta(seconds=1)
            run_sweep(later, lambda pk: send(pk, later))
            run_sweep(later + timedelta(minutes=15), lambda pk: send(pk, later))
        finally:
            server.stop()
    assert len(received) == 1
    assert received[0]["To"] == owner.email
    digest.refresh_from_db()
    assert digest.status == DigestStatus.SENT and digest.attempts == 2


# --- visible --------------------------------------------------------------------------------


def test_deliverable_page_shows_the_reminders_sent(client, settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    deliverable = _deliverable(_project(), owner, date(2026, 11, 25))
    _sweep(MONDAY_0930_UTC)
    client.force_login(owner)
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "Reminders sent" in page and "Overdue" in page


def test_dry_run_lists_recipients_and_sends_nothing(capsys, settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    nameless = UserFactory(username="ben", first_name="", last_name="")
    project = _project(escalation_days=30)
    _deliverable(project, owner, date(2026, 11, 25))
    _deliverable(project, nameless, date(2026, 11, 25), slug="prd")
    call_command("send_reminders", "--dry-run", "--now", "2026-11-30T09:30:00+00:00")
    out = capsys.readouterr().out
    assert "Aiko Tanaka <aiko@example.com> (2026-11-30, en): 1 item\n" in out
    # Work is named as everywhere else (Deliverable.label): its type, then its own title.
    assert (
        "overdue: Analysis report with visualisations: analysis-report for aiko "
        f"[{project.name}] (5 days)" in out
    )
    assert "ben <ben@example.com> (2026-11-30, en): 1 item\n" in out
    assert mail.outbox == [] and not Digest.objects.exists()
    # --now decides what is owed; sending follows the real clock, here the same day.
    with time_machine.travel(MONDAY_0930_UTC), _capture(execute=True):
        call_command("send_reminders", "--now", "2026-11-30T09:30:00+00:00")
    assert len(mail.outbox) == 2  # aiko and ben


@override_settings(DEBUG=True)
def test_dry_run_on_the_demo_lists_the_expected_people(capsys):
    call_command("seed_demo")
    now = datetime.now(UTC)  # read once: next Monday, 10:00
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=10)
    call_command("send_reminders", "--dry-run", "--now", monday.isoformat())
    out = capsys.readouterr().out
    recipients = {line.split(" <")[0] for line in out.splitlines() if " <" in line}
    User = get_user_model()
    names = {
        user.get_full_name() or user.username
        for user in User.objects.filter(username__in=["manager", "hiro", "member"])
    }
    assert len(names) == 3 and names <= recipients
    assert "escalation:" in out


def test_preferences_page_saves_and_validates(client):
    user = UserFactory()
    client.force_login(user)
    url = reverse("deliverables:reminder_preferences")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "hour": 7,
            "time_zone": "Asia/Tokyo",
            "working_days": [0, 2, 4],
            "due_soon_days": 5,
            "language": "ja",
            "version": 1,
        },
    )
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(user=user)
    assert (preference.hour, preference.time_zone, preference.working_days) == (
        7,
        "Asia/Tokyo",
        "0,2,4",
    )
    response = client.post(
        url, {"hour": 25, "time_zone": "Mars/Base", "due_soon_days": 99, "language": "xx"}
    )
    assert response.status_code == 422
    preference.refresh_from_db()
    assert preference.hour == 7


def test_a_retried_digest_says_nothing_to_someone_who_left_meanwhile(settings):
    """Built, then the send fails; by the retry the owner is off the project and deactivated."""
    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    project = _project(escalation_days=30)
    secret = _deliverable(project, owner, date(2026, 11, 25))
    run_sweep(MONDAY_0930_UTC, lambda pk: None)  # handed over, never sent
    project.memberships.filter(user=owner).delete()
    owner.is_active = False
    owner.save()
    _sweep(MONDAY_0930_UTC + reminders.GRACE + timedelta(minutes=1))
    assert mail.outbox == []
    assert Digest.objects.get(recipient=owner).status == DigestStatus.CANCELLED
    assert not Reminder.objects.filter(deliverable=secret).exists()


def test_people_without_an_email_address_get_no_digest(settings):
    settings.TIME_ZONE = "UTC"
    owner = UserFactory(email="")
    _deliverable(_project(escalation_days=30), owner, date(2026, 11, 25))
    _sweep(MONDAY_0930_UTC)
    assert not Digest.objects.filter(recipient=owner).exists()


def test_a_broken_time_zone_does_not_stop_the_sweep_for_everyone(settings):
    settings.TIME_ZONE = "UTC"
    broken, fine = UserFactory(), UserFactory()
    ReminderPreference.objects.create(user=broken, time_zone="America")
    project = _project(escalation_days=30)
    _deliverable(project, broken, date(2026, 11, 25))
    _deliverable(project, fine, date(2026, 11, 25), slug="prd")
    _sweep(MONDAY_0930_UTC)
    assert {m.to[0] for m in mail.outbox} == {broken.email, fine.email}


def test_a_demoted_manager_hears_no_escalations(settings):
    from django.contrib.auth.models import Group

    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    _deliverable(_project(manager, escalation_days=1), owner, date(2026, 11, 20))
    manager.groups.remove(Group.objects.get(name="Managers"))
    _sweep(MONDAY_0930_UTC)
    assert manager.email not in {m.to[0] for m in mail.outbox}


def test_escalations_follow_the_project_rule_for_admins_and_owners(settings):
    """A listed admin may manage the project and hears of it; an admin not listed
    hears nothing (admins see every project, but escalations go to the listed);
    an owner taken off the team hears nothing of the work they still own."""
    from deliverables.models import DeliverableStatus
    from tests.factories import admin_user

    settings.TIME_ZONE = "UTC"
    listed_admin, unlisted_admin, owner, former = (
        admin_user(),
        admin_user(),
        UserFactory(),
        UserFactory(),
    )
    project = _project(listed_admin, escalation_days=1)
    late = _deliverable(project, owner, date(2026, 11, 20))
    gone = _deliverable(project, former, date(2026, 11, 20), slug="prd")
    project.memberships.filter(user=former).delete()
    assert Deliverable.objects.get(pk=gone.pk).status == DeliverableStatus.NOT_STARTED
    _sweep(MONDAY_0930_UTC)
    assert {m.to[0] for m in mail.outbox} == {listed_admin.email, owner.email}
    assert set(
        Reminder.objects.filter(recipient=listed_admin).values_list("deliverable", "kind")
    ) == {(late.pk, ReminderKind.ESCALATION), (gone.pk, ReminderKind.ESCALATION)}
    assert unlisted_admin.email not in {m.to[0] for m in mail.outbox}


# --- cancelled work ------------------------------------------------------------------------


def _cancel(deliverable, manager):
    from deliverables.services import deliverable_transition

    deliverable_transition(
        deliverable=Deliverable.objects.get(pk=deliverable.pk),
        actor=manager,
        to_status="cancelled",
        version=None,
        reason="Dropped from the plan.",
    )


def test_cancelled_work_is_neither_reminded_nor_escalated(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    project = _project(manager, escalation_days=1)
    kept = _deliverable(project, owner, date(2026, 11, 20))  # 10 days late: escalated
    late = _deliverable(project, owner, date(2026, 11, 20), slug="prd")
    soon = _deliverable(project, owner, date(2026, 12, 1), slug="deployed-model")
    stale = _deliverable(project, owner, None, status="in_progress", slug="project-plan")
    for deliverable in (late, soon, stale):
        _cancel(deliverable, manager)
    Deliverable.objects.filter(pk=stale.pk).update(updated_at=MONDAY_0930_UTC - timedelta(days=60))
    _sweep(MONDAY_0930_UTC)
    assert {r.deliverable_id for r in Reminder.objects.all()} == {kept.pk}
    assert "prd for" not in _digest_for(owner) and "analysis-report" in _digest_for(owner)
    assert "prd for" not in _digest_for(manager)


def test_work_cancelled_after_its_digest_was_built_is_left_out_when_it_is_sent(settings):
    settings.TIME_ZONE = "UTC"
    manager, owner = manager_user(), UserFactory()
    project = _project(manager, escalation_days=30)
    late = _deliverable(project, owner, date(2026, 11, 25))
    run_sweep(MONDAY_0930_UTC, lambda pk: None)  # built and handed over, not sent yet
    _cancel(late, manager)
    _sweep(MONDAY_0930_UTC + reminders.GRACE + timedelta(minutes=1))
    assert mail.outbox == []
    assert Digest.objects.get(recipient=owner).status == DigestStatus.CANCELLED
