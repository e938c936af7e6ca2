"""Reminder delivery through mail outages and unanswered sends, against a real SMTP
server, in simulated time: nothing owed within the catch-up window is lost, a
person gets at most one digest a day (except the one repeat after an unknown
outcome), and giving up is visible."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from deliverables import reminders
from deliverables.models import Deliverable, Digest, DigestStatus, ReminderPreference
from deliverables.services import deliverable_create
from deliverables.tasks import send_digest
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user
from tests.mail_server import MailServer, free_port

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)
EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what the sweep defers to commit, as commit would (tests run in a transaction)."""
    return django_capture_on_commit_callbacks


def _late_work(*owners, working_days=EVERY_DAY, hour=9):
    project = project_create(
        name=f"Late work {Deliverable.objects.count()}",
        managers=[manager_user()],
        escalation_days=30,
    )
    for owner in owners:
        membership_add(project=project, user=owner)
        ReminderPreference.objects.create(
            user=owner, hour=hour, time_zone="UTC", working_days=working_days
        )
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Report of {owner.username}",
            owner=owner,
            due_date=date(2026, 11, 20),
        )


def _smtp(port: int, timeout: float = 2):
    return override_settings(
        EMAIL_BACKEND="mlteam.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=timeout,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    )


class Clock:
    """Beat's sweep every 15 minutes of simulated time, sending as a worker would
    (failures and unknown outcomes are recorded on the digests, as the task does)."""

    def __init__(self, on_commit, start: datetime):
        self.on_commit = on_commit
        self.now = start

    def send(self, digest_id: int) -> None:
        with contextlib.suppress(reminders.DigestSendFailed, reminders.DigestOutcomeUnknown):
            reminders.digest_send(digest_id=digest_id, now=self.now)

    def sweep(self) -> None:
        with self.on_commit(execute=True):
            reminders.reminder_sweep(now=self.now, send=self.send)

    def run_until(self, end: datetime, step=timedelta(minutes=15), each=None) -> None:
        while self.now < end:
            self.sweep()
            if each:
                each(self.now)
            self.now += step


def _digest(owner, day: date) -> Digest:
    return Digest.objects.get(recipient=owner, local_date=day)


# --- a long outage ---------------------------------------------------------------------------


def test_an_outage_longer_than_any_retry_schedule_ends_with_every_owed_day_delivered_once(
    on_commit,
):
    """No server for 2 h 05, then one refusing every recipient for two more days
    (Monday 09:00 to Wednesday 11:05): after recovery each person gets one message
    carrying the three days, then Thursday's as usual; never two on one day."""
    aiko, ben = UserFactory(username="aiko"), UserFactory(username="ben")
    _late_work(aiko, ben)
    dead_port = free_port()
    arrivals: Counter = Counter()  # (address, day of arrival) -> messages
    with MailServer() as server:
        seen = 0

        def count_arrivals(now):
            nonlocal seen
            for message in server.received[seen:]:
                arrivals[(message["To"], now.date())] += 1
            seen = len(server.received)

        clock = Clock(on_commit, MONDAY.replace(hour=9))
        with _smtp(dead_port):
            clock.run_until(MONDAY.replace(hour=11, minute=5), each=count_arrivals)
        server.handler.refusing = True
        with _smtp(server.port):
            clock.run_until(MONDAY + timedelta(days=2, hours=11, minutes=5), each=count_arrivals)
            monday = _digest(aiko, MONDAY.date())
            assert monday.status == DigestStatus.PENDING
            assert monday.attempts > 8  # the old schedule gave up after 8
            assert "Try again later" in monday.last_error
            assert server.received == []
            server.handler.refusing = False
            clock.run_until(MONDAY + timedelta(days=3, hours=12), each=count_arrivals)

    for person in (aiko, ben):
        caught_up, thursday = server.to(person.email)
        text = caught_up.get_body(("plain",)).get_content()
        assert "Mail could not be delivered on Nov 30, 2026, Dec 1, 2026, Dec 2, 2026" in text
        assert text.count(f"Report of {person.username}") == 1  # once, as Wednesday said it
        assert "12 days late" in text  # counted on Wednesday, Dec 2
        assert "could not be delivered" not in thursday.get_body(("plain",)).get_content()
        wednesday = _digest(person, date(2026, 12, 2))
        assert wednesday.status == DigestStatus.SENT
        for day in (date(2026, 11, 30), date(2026, 12, 1)):
            merged = _digest(person, day)
            assert merged.status == DigestStatus.MERGED and merged.sent_with == wednesday
        assert _digest(person, date(2026, 12, 3)).status == DigestStatus.SENT
    assert set(arrivals.values()) == {1}  # at most one message a person a day
    assert len(arrivals) == 4


def test_a_catch_up_waits_for_the_days_own_digest_when_mail_returns_before_its_hour(on_commit):
    """Mail is back at 07:00 on Tuesday: Monday's digest waits for Tuesday's at 09:00
    and both arrive as one message then, not one at 07:00 and another at 09:00."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    with MailServer() as server:
        clock = Clock(on_commit, MONDAY.replace(hour=9))
        with _smtp(free_port()):
            clock.run_until(MONDAY + timedelta(days=1, hours=7))
        with _smtp(server.port):
            clock.run_until(MONDAY + timedelta(days=1, hours=9))
            assert server.received == []
            assert _digest(aiko, MONDAY.date()).next_attempt_at == MONDAY + timedelta(
                days=1, hours=9
            )
            clock.run_until(MONDAY + timedelta(days=1, hours=23))
    assert len(server.to(aiko.email)) == 1
    assert _digest(aiko, date(2026, 12, 1)).status == DigestStatus.SENT
    assert _digest(aiko, MONDAY.date()).status == DigestStatus.MERGED


def test_a_catch_up_goes_at_once_on_a_day_without_a_digest_of_its_own(on_commit):
    """Friday's digest, failing into the weekend (Monday to Friday only), is sent
    when mail returns on Saturday morning."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko, working_days="0,1,2,3,4")
    friday = MONDAY + timedelta(days=4)
    with MailServer() as server:
        clock = Clock(on_commit, friday.replace(hour=9))
        with _smtp(free_port()):
            clock.run_until(friday + timedelta(days=1, hours=7))
        with _smtp(server.port):
            clock.run_until(friday + timedelta(days=1, hours=9))
    (message,) = server.to(aiko.email)
    assert (
        "Mail could not be delivered on Dec 4, 2026" in message.get_body(("plain",)).get_content()
    )


# --- retries wait for their time ----------------------------------------------------------------


def test_a_retry_waits_for_its_next_attempt_time_whoever_asks(on_commit, capsys):
    """After a failure, neither a manual send_reminders nor a duplicate task spends an
    attempt before the digest's next-attempt time; the first send after the sweep
    built the digest went at once."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9, minute=30)
    with MailServer() as server:
        with _smtp(free_port()):
            Clock(on_commit, start).sweep()
        digest = Digest.objects.get(recipient=aiko)
        assert digest.attempts == 1 and digest.status == DigestStatus.PENDING
        assert digest.next_attempt_at == start + timedelta(minutes=1)
        with _smtp(server.port), time_machine.travel(start + timedelta(seconds=30)):
            assert reminders.digest_send(digest_id=digest.pk) is False
            assert send_digest.apply(args=[digest.pk]).get() is False
            with on_commit(execute=True):
                call_command("send_reminders")
        assert "0 digests built, 0 sent, 0 failed" in capsys.readouterr().out
        digest.refresh_from_db()
        assert digest.attempts == 1 and server.received == []
        with _smtp(server.port), time_machine.travel(start + timedelta(minutes=1)):
            assert send_digest.apply(args=[digest.pk]).get() is True
    digest.refresh_from_db()
    assert digest.attempts == 2 and digest.status == DigestStatus.SENT
    assert len(server.received) == 1


def test_the_task_running_out_of_retries_gives_nothing_up(on_commit):
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9, minute=30)
    with _smtp(free_port()), time_machine.travel(start):
        with on_commit(execute=True):
            reminders.reminder_sweep(now=start, send=lambda pk: None)
        digest = Digest.objects.get(recipient=aiko)
        result = send_digest.apply(args=[digest.pk], retries=send_digest.max_retries)
    assert result.get() is False
    digest.refresh_from_db()
    assert digest.status == DigestStatus.PENDING and digest.attempts == 1
    assert digest.deliver_by == datetime(2026, 12, 4, tzinfo=UTC)


# --- unknown outcomes ----------------------------------------------------------------------------


def test_a_server_answering_after_the_timeout_gets_at_most_one_repeat(on_commit, settings):
    """The server takes the text and answers after 2 s, beyond EMAIL_TIMEOUT (1 s):
    outcome unknown, nothing resent for 4 hours, then one repeat, which is just as
    slow: final. Never a third message that day."""
    settings.REMINDER_UNKNOWN_REPEAT_DELAY_MINUTES = 240
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9)
    with MailServer() as server, _smtp(server.port, timeout=1):
        server.handler.answer_after = 2
        clock = Clock(on_commit, start)
        clock.sweep()
        digest = Digest.objects.get(recipient=aiko)
        assert digest.status == DigestStatus.UNKNOWN and digest.unknown_outcomes == 1
        assert digest.next_attempt_at == start + timedelta(hours=4)
        assert len(server.received) == 1
        # Before the delay: no sweep and no direct send repeats it.
        clock.now += timedelta(minutes=15)
        clock.run_until(start + timedelta(hours=4))
        assert reminders.digest_send(digest_id=digest.pk, now=start + timedelta(hours=2)) is False
        assert len(server.received) == 1
        clock.run_until(start + timedelta(hours=4, minutes=15))
        assert len(server.received) == 2
        digest.refresh_from_db()
        assert digest.status == DigestStatus.UNKNOWN and digest.unknown_outcomes == 2
        assert digest.next_attempt_at is None
        clock.run_until(start + timedelta(hours=15))
    assert len(server.to(aiko.email)) == 2


def test_a_repeat_after_an_unknown_outcome_that_goes_through_is_sent(on_commit):
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9)
    with MailServer() as server, _smtp(server.port, timeout=1):
        server.handler.answer_after = 2
        clock = Clock(on_commit, start)
        clock.sweep()
        server.handler.answer_after = 0
        clock.run_until(start + timedelta(hours=14))
    assert len(server.to(aiko.email)) == 2
    digest = Digest.objects.get(recipient=aiko)
    assert digest.status == DigestStatus.SENT and digest.unknown_outcomes == 1


def test_no_repeat_when_the_delay_would_run_into_the_next_day(on_commit):
    """At 21:00 plus 4 hours is tomorrow, whose own digest will say what is owed."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko, hour=21)
    start = MONDAY.replace(hour=21)
    with MailServer() as server, _smtp(server.port, timeout=1):
        server.handler.answer_after = 2
        clock = Clock(on_commit, start)
        clock.sweep()
        digest = Digest.objects.get(recipient=aiko)
        assert digest.status == DigestStatus.UNKNOWN and digest.next_attempt_at is None
        server.handler.answer_after = 0
        clock.run_until(MONDAY + timedelta(days=1, hours=20, minutes=59))
        assert len(server.to(aiko.email)) == 1
        clock.run_until(MONDAY + timedelta(days=1, hours=21, minutes=15))
    assert len(server.to(aiko.email)) == 2  # Tuesday's own


def test_a_worker_that_died_after_handing_the_text_over_is_an_unknown_outcome(on_commit):
    """The text went, then the worker vanished before recording anything: when its
    lease ends the digest is not sent again at once, only once after the delay."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9)
    clock = Clock(on_commit, start)

    def send_then_die(digest_id: int) -> None:
        group = reminders._claim(digest_id, start)
        reminders._hand_over(group, start)

    with on_commit(execute=True):
        reminders.reminder_sweep(now=start, send=send_then_die)
    with MailServer() as server, _smtp(server.port):
        clock.now = start + reminders.lease() + timedelta(minutes=1)
        clock.sweep()
        digest = Digest.objects.get(recipient=aiko)
        assert digest.status == DigestStatus.UNKNOWN
        assert digest.next_attempt_at == start + reminders.unknown_repeat_delay()
        clock.run_until(start + timedelta(hours=4))
        assert server.received == []
        clock.run_until(start + timedelta(hours=4, minutes=15))
    assert len(server.to(aiko.email)) == 1
    assert Digest.objects.get(recipient=aiko).status == DigestStatus.SENT


# --- giving up is visible ------------------------------------------------------------------------


def _outage_past_the_window(on_commit, settings, person) -> datetime:
    """Monday's digest fails until its window (one day after its own) ends. Returns
    the moment after the give-up."""
    settings.REMINDER_CATCH_UP_DAYS = 1
    _late_work(person, working_days="0")  # Mondays only: no later digest takes it along
    with _smtp(free_port()):
        Clock(on_commit, MONDAY.replace(hour=9)).run_until(MONDAY + timedelta(days=2, minutes=15))
    return MONDAY + timedelta(days=2, hours=1)


def test_past_its_catch_up_window_a_digest_is_undelivered_and_an_error_is_logged(
    on_commit, settings, caplog
):
    aiko = UserFactory(username="aiko")
    with caplog.at_level(logging.ERROR, logger="deliverables.reminders"):
        _outage_past_the_window(on_commit, settings, aiko)
    digest = Digest.objects.get(recipient=aiko)
    assert digest.status == DigestStatus.UNDELIVERED
    assert "Connection refused" in digest.last_error
    assert digest.attempts > 8
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Gave up on 1 reminder digest" in record.getMessage()
    assert "Connection refused" in record.getMessage()


def test_send_reminders_lists_undelivered_and_failing_digests(on_commit, settings, capsys):
    aiko = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    ben = UserFactory(username="ben", first_name="", last_name="")
    after = _outage_past_the_window(on_commit, settings, aiko)
    _late_work(ben, hour=0)
    with _smtp(free_port()):
        Clock(on_commit, after - timedelta(hours=1)).sweep()  # ben's first attempt fails
        capsys.readouterr()
        with time_machine.travel(after), on_commit(execute=True):
            call_command("send_reminders")
    captured = capsys.readouterr()
    assert "0 digests built, 0 sent, 1 failed (retried later)." in captured.out  # ben's retry
    assert "2 digests need attention:" in captured.err
    assert (
        "Aiko Tanaka <aiko@example.com> 2026-11-30: undelivered (catch-up window ended); "
        in captured.err
    )
    assert (
        "ben <ben@example.com> 2026-12-02: failing since 2026-12-02 00:00 UTC, "
        "next attempt 2026-12-02 01:02 UTC; 2 attempts" in captured.err
    )
    assert "last error: [Errno 111] Connection refused" in captured.err


def test_send_reminders_counts_every_digest_needing_attention_when_it_lists_fewer(
    on_commit, settings, capsys, monkeypatch
):
    """The list is cut short (the admin has them all); the count is not."""
    from deliverables.management.commands import send_reminders

    monkeypatch.setattr(send_reminders, "TROUBLE_LISTED", 1)
    aiko = UserFactory(username="aiko", first_name="Aiko", last_name="Tanaka")
    ben = UserFactory(username="ben", first_name="", last_name="")
    after = _outage_past_the_window(on_commit, settings, aiko)
    _late_work(ben, hour=0)
    with _smtp(free_port()):
        Clock(on_commit, after - timedelta(hours=1)).sweep()
        capsys.readouterr()
        with time_machine.travel(after), on_commit(execute=True):
            call_command("send_reminders")
    captured = capsys.readouterr()
    assert "2 digests need attention (the first 1 below):" in captured.err
    assert "Aiko Tanaka <aiko@example.com> 2026-11-30: undelivered" in captured.err
    assert "<ben@example.com>" not in captured.err


def test_health_turns_red_while_digests_fail_and_after_one_is_given_up(on_commit, client, settings):
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    start = MONDAY.replace(hour=9)
    with _smtp(free_port()):
        Clock(on_commit, start).run_until(start + timedelta(minutes=20))
    with time_machine.travel(start + timedelta(minutes=20)):
        assert client.get(reverse("healthz_reminders")).status_code == 200  # a blip: no alarm
    with _smtp(free_port()):
        Clock(on_commit, start + timedelta(minutes=20)).run_until(start + timedelta(minutes=45))
    with time_machine.travel(start + timedelta(minutes=45)):
        response = client.get(reverse("healthz_reminders"))
        site = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["reminders"] == "error: 1 digest(s) failing for 45 min"
    assert site.status_code == 200  # the site stays in service during a mail outage
    assert "example.com" not in response.content.decode()  # public: no addresses


def test_health_is_red_for_a_day_after_a_digest_is_given_up(on_commit, client, settings):
    after = _outage_past_the_window(on_commit, settings, UserFactory(username="aiko"))
    with time_machine.travel(after):
        response = client.get(reverse("healthz_reminders"))
    assert response.status_code == 503
    assert response.json()["reminders"] == "error: 1 digest(s) undelivered in the last day"
    with time_machine.travel(after + timedelta(days=1)):
        assert client.get(reverse("healthz_reminders")).status_code == 200


def test_the_admin_lists_undelivered_digests_with_their_error_and_a_banner(
    on_commit, client, settings
):
    after = _outage_past_the_window(on_commit, settings, UserFactory(username="aiko"))
    # A username no generated first name can contain: the page greets the
    # superuser by a random name ("Ruben" once made a bare "ben" match).
    delivered = UserFactory(username="delivered-digest-recipient")
    Digest.objects.create(
        recipient=delivered,
        local_date=MONDAY.date(),
        status=DigestStatus.SENT,
        deliver_by=after,
    )
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    with time_machine.travel(after):
        page = client.get(reverse("admin:index")).content.decode()
        listed = client.get(
            reverse("admin:deliverables_digest_changelist") + "?trouble=attention"
        ).content.decode()
    assert 'id="digest-trouble"' in page
    assert "1 digest was given up in the last day" in page
    assert "Last error: [Errno 111] Connection refused" in page
    assert "aiko" in listed and "Connection refused" in listed
    assert "delivered-digest-recipient" not in listed
    assert "Not delivered (mail failed until the catch-up window ended)" in listed


def test_the_banner_is_only_for_those_who_may_see_digests_and_only_in_the_admin(
    on_commit, client, settings
):
    from tests.factories import admin_user

    after = _outage_past_the_window(on_commit, settings, UserFactory(username="aiko"))
    staff = UserFactory(username="staff", is_staff=True)
    client.force_login(staff)
    with time_machine.travel(after):
        assert 'id="digest-trouble"' not in client.get(reverse("admin:index")).content.decode()
    client.force_login(admin_user(username="boss"))  # the Admins group may see digests
    with time_machine.travel(after):
        assert 'id="digest-trouble"' in client.get(reverse("admin:index")).content.decode()
        assert 'id="digest-trouble"' not in client.get(reverse("home")).content.decode()


def test_digests_are_read_only_in_the_admin(client):
    aiko = UserFactory(username="aiko")
    digest = Digest.objects.create(
        recipient=aiko, local_date=MONDAY.date(), deliver_by=MONDAY + timedelta(days=4)
    )
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:deliverables_digest_change", args=[digest.pk]))
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    assert (
        client.post(
            reverse("admin:deliverables_digest_change", args=[digest.pk]), {"status": "sent"}
        ).status_code
        == 403
    )
    assert (
        client.get(reverse("admin:deliverables_digest_delete", args=[digest.pk])).status_code == 403
    )
    assert client.get(reverse("admin:deliverables_digest_add")).status_code == 403
    digest.refresh_from_db()
    assert digest.status == DigestStatus.PENDING


def test_the_digest_admin_list_costs_the_same_queries_at_two_sizes(client):
    """The list with its banner: session, user, (banner) counts and last error, the
    changelist's count, total, rows with recipients, and the date hierarchy."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def grow(people: int) -> None:
        for n in range(people):
            person = UserFactory()
            for day in range(3):
                Digest.objects.create(
                    recipient=person,
                    local_date=MONDAY.date() + timedelta(days=day),
                    status=DigestStatus.PENDING if n % 2 else DigestStatus.UNDELIVERED,
                    attempts=12,
                    failing_since=MONDAY,
                    deliver_by=MONDAY + timedelta(days=4 + day),
                    last_error=f"refused {n}",
                )

    moment = MONDAY + timedelta(days=4, hours=1)
    # Signed in at the moment the list is read (a session signed in days before it
    # would have timed out).
    with time_machine.travel(moment):
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:deliverables_digest_changelist") + "?trouble=attention"

    def queries() -> int:
        with time_machine.travel(moment), CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert 'id="digest-trouble"' in response.content.decode()
        return len(captured)

    grow(2)
    small = queries()
    grow(20)
    assert queries() == small


def test_a_sender_lost_after_handing_over_past_the_window_is_left_unknown(on_commit, settings):
    settings.REMINDER_CATCH_UP_DAYS = 0
    aiko = UserFactory(username="aiko")
    _late_work(aiko, hour=22)
    start = MONDAY.replace(hour=22)

    def send_then_die(digest_id: int) -> None:
        reminders._hand_over(reminders._claim(digest_id, start), start)

    with on_commit(execute=True):
        reminders.reminder_sweep(now=start, send=send_then_die)
    Clock(on_commit, MONDAY + timedelta(days=1, minutes=5)).sweep()  # the window has ended
    digest = Digest.objects.get(recipient=aiko)
    assert digest.status == DigestStatus.UNKNOWN and digest.unknown_outcomes == 1
    assert digest.next_attempt_at is None


def test_a_digest_left_over_after_the_days_message_went_is_covered_by_it(on_commit):
    """Tuesday's message went at 09:00; Monday's digest, claimed elsewhere then (its
    worker lost), comes round at 10:00: no second message that day, it is marked as
    sent with Tuesday's."""
    aiko = UserFactory(username="aiko")
    _late_work(aiko)
    tuesday = MONDAY + timedelta(days=1)
    with on_commit(execute=True):
        reminders.reminder_sweep(now=MONDAY.replace(hour=9), send=lambda pk: None)
        reminders.reminder_sweep(now=tuesday.replace(hour=9), send=lambda pk: None)
    monday, sent = Digest.objects.order_by("local_date")
    Digest.objects.filter(pk=sent.pk).update(
        status=DigestStatus.SENT, handed_over_at=tuesday.replace(hour=9)
    )
    Digest.objects.filter(pk=monday.pk).update(attempts=3, next_attempt_at=tuesday)
    with MailServer() as server, _smtp(server.port):
        assert reminders.digest_send(digest_id=monday.pk, now=tuesday.replace(hour=10)) is False
    assert server.received == []
    monday.refresh_from_db()
    assert monday.status == DigestStatus.MERGED and monday.sent_with_id == sent.pk


def test_a_merged_digest_keeps_the_one_that_carried_it_and_its_person():
    """The record of what a message carried stays whole: its carrier cannot go while
    digests sent with it remain, and the person cannot go while they have digests
    (people are deactivated or anonymised, never deleted: docs/data-retention.md)."""
    from django.db.models import ProtectedError, RestrictedError

    ben = UserFactory(username="ben")
    carrier = Digest.objects.create(
        recipient=ben, local_date=MONDAY.date(), status=DigestStatus.SENT, deliver_by=MONDAY
    )
    Digest.objects.create(
        recipient=ben,
        local_date=MONDAY.date() - timedelta(days=1),
        status=DigestStatus.MERGED,
        sent_with=carrier,
        deliver_by=MONDAY,
    )
    with pytest.raises(RestrictedError):
        carrier.delete()  # a carrier alone: the record of what it carried would go
    with pytest.raises(ProtectedError):
        ben.delete()
    assert Digest.objects.filter(recipient=ben).count() == 2
