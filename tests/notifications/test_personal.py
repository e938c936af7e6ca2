"""Personal delivery (issue 18, items 2, 3 and 5): a person's own chat address, the
daily digest by email, chat or both, inbox kinds also sent at once by email or
chat, all against a real local HTTP receiver and checked again when sent."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import reminders
from deliverables.models import Digest, DigestStatus, ReminderPreference
from deliverables.services import comment_add, deliverable_create
from mlteam.notifications import chat, personal, selectors
from mlteam.notifications.models import (
    DeliveryStatus,
    InboxEntry,
    InboxKind,
    NotificationPreference,
    PersonalDelivery,
    mask_url,
)
from roles.models import Membership
from roles.services import membership_add, membership_remove, project_create
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, manager_user
from tests.notifications.slack_schema import validate_slack_message

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def everyday(user, **fields) -> None:
    """Reminders every day from midnight UTC, so a test does not depend on the weekday."""
    ReminderPreference.objects.update_or_create(
        user=user,
        defaults={"hour": 0, "working_days": "0,1,2,3,4,5,6", "time_zone": "UTC", **fields},
    )


@pytest.fixture
def team():
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    owner = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn & <Retention>", managers=[manager])
    membership_add(project=project, user=manager)
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Drivers <report> & more",
        owner=owner,
        due_date=date(2026, 11, 27),  # three days late on MONDAY
        actor=manager,
    )
    everyday(owner)
    everyday(manager)
    return manager, owner, project, deliverable


def chat_for(person, url: str, *, digest_by: str = "email", channels: dict | None = None):
    personal.chat_address_set(person=person, url=url, version=None)
    return personal.notification_preference_update(
        person=person, version=None, digest_by=digest_by, event_channels=channels or {}
    )


def sweep(capture, now=MONDAY) -> dict:
    """The reminder sweep, each digest sent at once, after-commit work run."""
    with capture(execute=True):
        return reminders.reminder_sweep(
            now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now)
        )


def messages_to(receiver) -> list[dict]:
    return [json.loads(request.body) for request in receiver.requests]


# --- the chat address and the settings ----------------------------------------------------


def test_chat_address_is_checked_saved_and_shown_masked(client, team, receiver, loopback_allowed):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    response = client.post(reverse("notifications:chat_save"), {"url": receiver.url, "version": 1})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(person=owner)
    assert preference.chat_url == receiver.url
    page = client.get(reverse("notifications:settings")).content.decode()
    assert mask_url(receiver.url) in page
    assert receiver.url not in page  # the secret part is never shown again
    assert "Send a test message" in page


def test_mask_keeps_the_host_and_the_last_four_characters():
    masked = mask_url("https://hooks.slack.com/services/T000/B000/abcdefghXYZ9")
    assert masked == "https://hooks.slack.com/…XYZ9"
    assert "abcdefgh" not in masked


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "incoming-webhook address."),
        ("not an address", "Enter a full web address"),
        ("ftp://hooks.example.com/x", "Enter a full web address"),
        ("http://127.0.0.1:9/hook", "private"),
    ],
)
def test_a_bad_chat_address_is_refused_with_a_clear_message_and_nothing_saved(
    client, team, url, message
):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    response = client.post(reverse("notifications:chat_save"), {"url": url, "version": 1})
    assert response.status_code == 422
    assert message.lower() in response.content.decode().lower()
    assert not NotificationPreference.objects.filter(person=owner).exclude(chat_url="").exists()


def test_chat_cannot_be_chosen_without_an_address(client, team):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    url = reverse("notifications:settings")
    for data in (
        {"version": 1, "digest_by": "chat"},
        {"version": 1, "digest_by": "email", "chat_commented": "on"},
    ):
        response = client.post(url, data)
        assert response.status_code == 422
        assert "Add your chat address first" in response.content.decode()
    assert not NotificationPreference.objects.filter(person=owner, digest_by="chat").exists()
    with pytest.raises(ValidationError):
        personal.notification_preference_update(
            person=owner, version=None, digest_by="both", event_channels={}
        )
    with pytest.raises(ValidationError):
        personal.notification_preference_update(
            person=owner, version=None, digest_by="email", event_channels={"commented": ["chat"]}
        )


def test_the_settings_page_saves_email_choices_and_keeps_the_inbox_always(client, team):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    page = client.get(reverse("notifications:settings")).content.decode()
    assert page.count("checked disabled") == len(InboxKind)  # the inbox column
    response = client.post(
        reverse("notifications:settings"),
        {"version": 1, "digest_by": "email", "email_commented": "on", "email_mentioned": "on"},
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(person=owner)
    assert preference.event_channels == {"commented": ["email"], "mentioned": ["email"]}
    assert preference.digest_by == "email"


def test_a_stale_settings_form_saves_nothing_and_says_so(client, team, receiver, loopback_allowed):
    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url)
    version = NotificationPreference.objects.get(person=owner).version
    client.force_login(owner)
    url = reverse("notifications:settings")
    first = client.post(url, {"version": version, "digest_by": "both"})
    assert first.status_code == 302
    second = client.post(url, {"version": version, "digest_by": "chat", "email_commented": "on"})
    assert second.status_code == 409
    assert "changed in another window" in second.content.decode()
    preference = NotificationPreference.objects.get(person=owner)
    assert (preference.digest_by, preference.event_channels) == ("both", {})


def test_removing_the_address_asks_first_then_falls_back_to_email(
    client, team, receiver, loopback_allowed
):
    _manager, owner, _project, _deliverable = team
    preference = chat_for(
        owner, receiver.url, digest_by="chat", channels={"commented": ["email", "chat"]}
    )
    client.force_login(owner)
    url = reverse("notifications:chat_remove")
    assert mask_url(receiver.url) in client.get(url).content.decode()
    assert NotificationPreference.objects.get(person=owner).has_chat  # asking changed nothing
    # A confirmation drawn before another change is refused, and changes nothing.
    assert client.post(url, {"version": preference.version - 1}).status_code == 409
    assert client.post(url, {"version": preference.version}).status_code == 302
    preference = NotificationPreference.objects.get(person=owner)
    assert (preference.chat_url, preference.digest_by) == ("", "email")
    assert preference.event_channels == {"commented": ["email"]}


def test_the_test_message_reaches_the_chat_as_a_valid_slack_message(
    client, team, receiver, loopback_allowed
):
    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url)
    client.force_login(owner)
    response = client.post(reverse("notifications:chat_test"), follow=True)
    assert "Test message sent" in response.content.decode()
    (message,) = messages_to(receiver)
    validate_slack_message(message)
    assert "Kenji Ito" in message["text"]


def test_a_failing_test_message_says_what_the_chat_answered(
    client, team, receivers, loopback_allowed
):
    _manager, owner, _project, _deliverable = team
    failing = receivers([404])
    chat_for(owner, failing.url)
    client.force_login(owner)
    response = client.post(reverse("notifications:chat_test"), follow=True)
    assert "did not take the test message" in response.content.decode()
    assert "HTTP 404" in response.content.decode()


# --- permissions: only one's own settings ------------------------------------------------


SETTINGS_URLS = [
    ("get", "notifications:settings"),
    ("post", "notifications:settings"),
    ("post", "notifications:chat_save"),
    ("post", "notifications:chat_test"),
    ("get", "notifications:chat_remove"),
    ("post", "notifications:chat_remove"),
]


@pytest.mark.parametrize(("method", "name"), SETTINGS_URLS)
def test_signed_out_people_are_sent_to_sign_in(client, method, name):
    response = getattr(client, method)(reverse(name))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize("name", ["notifications:chat_save", "notifications:chat_test"])
def test_writes_need_post(client, member, name):
    client.force_login(member)
    assert client.get(reverse(name)).status_code == 405


def test_a_person_sees_and_changes_only_their_own_settings(
    client, team, receiver, loopback_allowed
):
    manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url, digest_by="chat")
    client.force_login(manager)
    page = client.get(reverse("notifications:settings")).content.decode()
    assert mask_url(receiver.url) not in page
    # Removing "the" address removes the reader's own (they have none): the owner's stays.
    client.post(reverse("notifications:chat_remove"), {"version": 1})
    client.post(reverse("notifications:chat_test"))
    assert NotificationPreference.objects.get(person=owner).chat_url == receiver.url
    assert receiver.requests == []


# --- the daily digest in chat --------------------------------------------------------------


def test_a_digest_by_chat_goes_once_as_block_kit_and_no_email(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    _manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, digest_by="chat")

    sweep(django_capture_on_commit_callbacks)

    assert [m for m in mail.outbox if m.to == [owner.email]] == []
    (row,) = PersonalDelivery.objects.filter(person=owner)
    assert (row.channel, row.event_id) == ("chat", f"digest:{owner.pk}:2026-11-30")
    assert Digest.objects.get(recipient=owner).status == DigestStatus.SENT
    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED
    # The sweep again, the task again: nothing more.
    sweep(django_capture_on_commit_callbacks, now=MONDAY + timedelta(hours=2))
    assert personal.delivery_send(delivery_id=row.pk).status is None
    assert PersonalDelivery.objects.filter(person=owner).count() == 1
    (message,) = messages_to(receiver)
    validate_slack_message(message)
    detail = reverse("deliverables:detail", args=[deliverable.pk])
    body = json.dumps(message["blocks"])
    assert f"{detail}|" in body
    # Text from people is escaped: no stray link or mention can be formed.
    assert "Drivers &lt;report&gt; &amp; more" in body
    assert "3 days late" in body


def test_a_person_without_an_email_address_gets_their_digest_in_chat(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """Chat reaches people with no email address (`DigestOutlets.reachable`); with
    both chosen, the chat still goes and no email is attempted."""
    _manager, owner, _project, _deliverable = team
    owner.email = ""
    owner.save(update_fields=["email"])
    chat_for(owner, receiver.url, digest_by="both")

    sweep(django_capture_on_commit_callbacks)

    assert not any(m.to in ([""], []) for m in mail.outbox)  # no email tried
    assert Digest.objects.get(recipient=owner).status == DigestStatus.SENT
    (row,) = PersonalDelivery.objects.filter(person=owner)
    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED
    (message,) = messages_to(receiver)
    validate_slack_message(message)
    assert "3 days late" in json.dumps(message["blocks"])


def test_without_an_email_address_or_chat_nobody_is_owed_a_digest(
    team, django_capture_on_commit_callbacks
):
    _manager, owner, _project, _deliverable = team
    owner.email = ""
    owner.save(update_fields=["email"])

    sweep(django_capture_on_commit_callbacks)

    assert not Digest.objects.filter(recipient=owner).exists()


def test_a_digest_by_both_says_in_chat_what_the_email_says(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url, digest_by="both")

    sweep(django_capture_on_commit_callbacks)

    (email,) = [m for m in mail.outbox if m.to == [owner.email]]
    (row,) = PersonalDelivery.objects.filter(person=owner)
    personal.delivery_send(delivery_id=row.pk)
    (message,) = messages_to(receiver)
    assert message["blocks"][0]["text"]["text"] == email.subject
    assert "Overdue" in email.body and "*Overdue*" in json.dumps(message["blocks"])


def test_a_digest_in_chat_is_in_the_persons_language(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    _manager, owner, _project, _deliverable = team
    everyday(owner, language="ja")
    chat_for(owner, receiver.url, digest_by="both")

    sweep(django_capture_on_commit_callbacks)

    (email,) = [m for m in mail.outbox if m.to == [owner.email]]
    personal.delivery_send(delivery_id=PersonalDelivery.objects.get(person=owner).pk)
    (message,) = messages_to(receiver)
    validate_slack_message(message)
    assert email.subject.startswith("MLTeam：")
    assert message["blocks"][0]["text"]["text"] == email.subject
    assert "*期限切れ*" in json.dumps(message["blocks"], ensure_ascii=False)


def test_a_paused_person_gets_no_digest_in_chat_either(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    _manager, owner, _project, _deliverable = team
    everyday(owner, paused_until=date(2026, 11, 30))
    chat_for(owner, receiver.url, digest_by="chat")

    sweep(django_capture_on_commit_callbacks)

    assert not PersonalDelivery.objects.filter(person=owner).exists()
    assert not Digest.objects.filter(recipient=owner).exists()


def test_a_chat_failing_then_recovering_gets_one_message(
    team, receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    _manager, owner, _project, _deliverable = team
    flaky = receivers([500, 503, 200])
    chat_for(owner, flaky.url, digest_by="chat")
    sweep(django_capture_on_commit_callbacks)
    row = PersonalDelivery.objects.get(person=owner)

    first = personal.delivery_send(delivery_id=row.pk)
    assert first.status == DeliveryStatus.FAILED
    assert personal.delivery_send(delivery_id=row.pk).status is None  # not due yet
    second = personal.delivery_send(delivery_id=row.pk, now=first.retry_at)
    third = personal.delivery_send(delivery_id=row.pk, now=second.retry_at)

    assert (second.status, third.status) == (DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED)
    assert (
        personal.delivery_send(delivery_id=row.pk, now=third.retry_at or timezone.now()).status
        is None
    )
    # Three tries, one accepted: the person reads one message.
    assert len(flaky.requests) == 3
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 3)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_email_and_chat_retry_independently(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """The email fails (no mail server), the chat goes; the digest's retry sends the
    email alone, never a second chat message."""
    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url, digest_by="both")
    with override_settings(
        EMAIL_BACKEND="mlteam.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=_free_port(),
        EMAIL_TIMEOUT=1,
    ):
        sweep(django_capture_on_commit_callbacks)
    digest = Digest.objects.get(recipient=owner)
    assert digest.status == DigestStatus.PENDING  # the email will be retried
    row = PersonalDelivery.objects.get(person=owner)
    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED

    later = MONDAY + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.digest_send(digest_id=digest.pk, now=later) is True

    assert len([m for m in mail.outbox if m.to == [owner.email]]) == 1
    assert PersonalDelivery.objects.filter(person=owner).count() == 1
    assert personal.delivery_send(delivery_id=row.pk).status is None
    assert len(receiver.requests) == 1


def test_a_digest_line_about_work_no_longer_visible_is_dropped_when_sent(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    manager, owner, _project, _deliverable = team
    other = project_create(name="Fraud", managers=[manager])
    membership_add(project=other, user=owner)
    deliverable_create(
        project=other,
        type=deliverable_type("analysis-report"),
        title="Fraud rules",
        owner=owner,
        due_date=date(2026, 11, 28),
        actor=manager,
    )
    chat_for(owner, receiver.url, digest_by="chat")
    sweep(django_capture_on_commit_callbacks)
    membership_remove(
        membership=Membership.objects.get(project=other, user=owner), actor=manager, version=None
    )

    personal.delivery_send(delivery_id=PersonalDelivery.objects.get(person=owner).pk)

    (message,) = messages_to(receiver)
    validate_slack_message(message)
    assert "Fraud" not in json.dumps(message)
    assert "Drivers" in json.dumps(message)
    # The counts planned with it ("2 overdue") no longer hold: the title gives none.
    assert message["blocks"][0]["text"]["text"] == "MLTeam: your reminders"


def test_a_long_digest_is_cut_to_slacks_limits_with_a_link_to_the_rest():
    lines = [{"text": f"line {n} " + "x" * 200, "deliverable": n} for n in range(1, 400)]
    message = chat.Message(
        title="T" * 300,
        sections=[{"heading": f"Section {n}", "lines": lines[n::20]} for n in range(20)],
        links=[{"url": "https://example.com/work", "text": "Your work"}],
    )
    payload = chat.slack_payload(message, more_url="https://example.com/work")
    validate_slack_message(payload)
    assert len(payload["blocks"]) == 50
    assert "more lines" in payload["blocks"][-2]["text"]["text"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_racing_sends_of_a_digest_post_it_once(
    receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="racer")
    owner = UserFactory(username="hasty")
    project = project_create(name="Race", managers=[manager])
    membership_add(project=project, user=owner)
    deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        owner=owner,
        due_date=date(2026, 11, 27),
        actor=manager,
    )
    everyday(owner)
    receiver = receivers([("hang", 0.3), 200])
    receiver.answers = [200]
    chat_for(owner, receiver.url, digest_by="chat")
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=MONDAY, send=lambda pk: None)
    digest = Digest.objects.get(recipient=owner)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        reminders.digest_send(digest_id=digest.pk, now=MONDAY + timedelta(minutes=10))
        row = PersonalDelivery.objects.filter(person=owner).first()
        results.append(personal.delivery_send(delivery_id=row.pk).status if row else "none")
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert PersonalDelivery.objects.filter(person=owner).count() == 1
    assert sorted(results, key=str).count("succeeded") == 1
    assert len(receiver.requests) == 1


# --- inbox kinds by email or chat, as they happen -------------------------------------------


def test_an_opted_in_comment_arrives_in_chat_once_after_commit(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        comment_add(deliverable=deliverable, actor=manager, body="Looks <good> & done")
        assert PersonalDelivery.objects.filter(person=owner).count() == 1  # in the transaction
    assert callbacks  # handed to the task only after commit
    (row,) = PersonalDelivery.objects.filter(person=owner)
    entry = InboxEntry.objects.get(person=owner, kind=InboxKind.COMMENTED)
    assert row.event_id == f"inbox:{entry.source}"

    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED
    assert personal.delivery_send(delivery_id=row.pk).status is None
    (message,) = messages_to(receiver)
    validate_slack_message(message)
    assert message["blocks"][0]["text"]["text"] == "Mari Kobayashi commented"
    assert reverse("notifications:inbox_open", args=[entry.pk]) in json.dumps(message)


def test_a_rolled_back_change_sends_nothing(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat", "email"]})
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        comment_add(deliverable=deliverable, actor=manager, body="Never mind")
        raise RuntimeError("rolled back")
    assert not PersonalDelivery.objects.exists()
    assert not InboxEntry.objects.filter(kind=InboxKind.COMMENTED).exists()
    assert callbacks == []
    assert receiver.requests == [] and mail.outbox == []


def test_an_opted_in_kind_comes_by_email_in_the_persons_language(
    team, django_capture_on_commit_callbacks
):
    manager, owner, _project, deliverable = team
    everyday(owner, language="ja")
    personal.notification_preference_update(
        person=owner, version=None, digest_by="email", event_channels={"commented": ["email"]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="See above.")
    (row,) = PersonalDelivery.objects.filter(person=owner)
    mail.outbox.clear()

    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SUCCEEDED

    (email,) = mail.outbox
    assert email.to == [owner.email]
    assert "コメントしました" in email.subject
    assert (
        reverse(
            "notifications:inbox_open",
            args=[InboxEntry.objects.get(person=owner, kind="commented").pk],
        )
        in email.body
    )


def test_nobody_gets_more_than_the_inbox_by_default(team, django_capture_on_commit_callbacks):
    manager, owner, _project, deliverable = team
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Hello.")
    assert InboxEntry.objects.filter(person=owner, kind=InboxKind.COMMENTED).exists()
    assert not PersonalDelivery.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"paused_until": date(2099, 1, 1)}, "paused"),
        ({"working_days": ""}, "not a working day"),
    ],
)
def test_paused_or_off_days_leave_it_in_the_inbox_only(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks, fields, reason
):
    manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    everyday(owner, **fields)
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Quiet, please.")
    row = PersonalDelivery.objects.get(person=owner)

    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SKIPPED

    row.refresh_from_db()
    assert row.error == reason
    assert receiver.requests == []
    assert selectors.unread_count(owner) == 2  # the comment and the first assignment


def test_an_entry_about_a_project_no_longer_seen_is_not_sent(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    manager, owner, project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Still there?")
    membership_remove(
        membership=Membership.objects.get(project=project, user=owner), actor=manager, version=None
    )

    row = PersonalDelivery.objects.get(person=owner)
    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SKIPPED
    assert receiver.requests == []


def test_removing_the_address_stops_chat_messages_waiting(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    manager, owner, _project, deliverable = team
    preference = chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Later.")
    personal.chat_address_remove(person=owner, version=preference.version)

    row = PersonalDelivery.objects.get(person=owner)
    assert personal.delivery_send(delivery_id=row.pk).status == DeliveryStatus.SKIPPED
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_racing_sends_of_an_event_post_it_once(
    receivers, loopback_allowed, django_capture_on_commit_callbacks
):
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    manager = manager_user(username="racer2")
    owner = UserFactory(username="hasty2")
    project = project_create(name="Race 2", managers=[manager])
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("analysis-report"), owner=owner, actor=manager
    )
    everyday(owner)
    receiver = receivers([("hang", 0.3), 200])
    receiver.answers = [200]
    chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Race!")
    (row,) = PersonalDelivery.objects.filter(person=owner)
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        results.append(personal.delivery_send(delivery_id=row.pk).status)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(results, key=str) == [None, "succeeded"]
    assert len(receiver.requests) == 1


def test_personal_deliveries_run_on_the_deliveries_queue_and_the_sweep_hands_them_over(
    settings, team, receiver, loopback_allowed, django_capture_on_commit_callbacks, monkeypatch
):
    from mlteam.celery import app
    from mlteam.notifications import tasks

    assert app.amqp.router.route({}, tasks.deliver_personal.name)["queue"].name == "deliveries"
    manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat"]})
    handed = []
    monkeypatch.setattr(tasks.deliver_personal, "delay", handed.append)
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda pk: None)
    comment_add(deliverable=deliverable, actor=manager, body="Swept.")  # its hand-over never ran
    assert tasks.delivery_sweep() >= 1
    assert handed == [PersonalDelivery.objects.get(person=owner).pk]


def test_a_double_click_sends_one_test_message(client, team, receiver, loopback_allowed):
    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url)
    client.force_login(owner)
    client.post(reverse("notifications:chat_test"))
    response = client.post(reverse("notifications:chat_test"), follow=True)
    assert "wait a few seconds" in response.content.decode()
    assert len(receiver.requests) == 1


def test_done_personal_deliveries_go_with_the_inbox_after_90_days(
    team, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    from mlteam.notifications import tasks

    manager, owner, _project, deliverable = team
    chat_for(owner, receiver.url, channels={"commented": ["chat", "email"]})
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(deliverable=deliverable, actor=manager, body="Old news.")
    chat_row = PersonalDelivery.objects.get(person=owner, channel="chat")
    personal.delivery_send(delivery_id=chat_row.pk)
    PersonalDelivery.objects.update(created_at=timezone.now() - timedelta(days=91))

    tasks.inbox_purge()

    # The sent one went; the email still waiting for its first attempt stays.
    assert list(PersonalDelivery.objects.values_list("channel", flat=True)) == ["email"]


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("notifications:settings", {"version": "x", "digest_by": "email"}, "out of date"),
        ("notifications:settings", {"version": "1", "digest_by": "sms"}, "Select a valid choice"),
        ("notifications:settings", {"version": "1"}, "This field is required"),
        (
            "notifications:chat_save",
            {"version": "1", "url": "https://x.example/" + "a" * 600},
            "500",
        ),
        ("notifications:chat_save", {"version": "x", "url": "https://x.example/"}, "out of date"),
    ],
)
def test_bad_input_is_refused_with_a_message_never_a_500(client, team, name, data, shown):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    response = client.post(reverse(name), data)
    assert response.status_code == 422
    assert shown in response.content.decode()
    assert not NotificationPreference.objects.filter(person=owner).exists()  # nothing half-saved


def test_a_review_change_rolled_back_leaves_no_entry(django_capture_on_commit_callbacks):
    from deliverables.reviews import services as review_services
    from deliverables.reviews.models import ReviewCycle

    manager = manager_user(username="lead")
    person = UserFactory(username="reviewed")
    project = project_create(name="Reviews", managers=[manager])
    membership_add(project=project, user=person)
    cycle = ReviewCycle.objects.create(
        name="H1", start_date=date(2026, 1, 1), end_date=date(2026, 6, 30)
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        review_services.expectations_write(
            cycle=cycle, person=person, actor=manager, text="Lead the launch.", deliverables=[]
        )
        assert InboxEntry.objects.filter(person=person, kind=InboxKind.EXPECTATIONS).exists()
        raise RuntimeError("rolled back")
    assert not InboxEntry.objects.filter(person=person).exclude(kind="role_assigned").exists()


def test_the_settings_page_costs_the_same_with_few_and_many_messages(
    client, team, receiver, loopback_allowed
):
    # Session, user, the settings row, the latest messages (five at most).

    _manager, owner, _project, _deliverable = team
    chat_for(owner, receiver.url, digest_by="chat")
    client.force_login(owner)

    def grow(n):
        start = PersonalDelivery.objects.count()
        PersonalDelivery.objects.bulk_create(
            PersonalDelivery(
                person=owner, channel="chat", event_id=f"test:{start + i}", event_type="commented"
            )
            for i in range(n)
        )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("notifications:settings")).status_code == 200
        return len(captured)

    grow(2)
    small = queries()
    grow(30)
    assert queries() == small
