"""The in-app inbox: who is told of what (never the actor), written once and with
the change, read only about what the reader may see now, marked read, purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables.models import DeliverableEvent, DeliverableStatus
from deliverables.services import (
    comment_add,
    deliverable_create,
    deliverable_transition,
    deliverable_update,
)
from mlteam.history import history_recorded
from mlteam.notifications import selectors, services, tasks
from mlteam.notifications.models import InboxEntry, InboxKind
from roles.models import Membership
from roles.services import membership_add, membership_remove, project_create, role_assign
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    manager = manager_user(username="mari", first_name="Mari", last_name="Kobayashi")
    owner = UserFactory(username="kenji", first_name="Kenji", last_name="Ito")
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=manager)
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("prd"),
        title="PRD for churn",
        owner=owner,
        actor=manager,
    )
    return manager, owner, project, deliverable


def _kinds(person) -> list[str]:
    return list(
        InboxEntry.objects.filter(person=person).order_by("pk").values_list("kind", flat=True)
    )


# --- feeding -----------------------------------------------------------------------------


def test_planned_deliverable_tells_its_owner(team):
    manager, owner, _project, deliverable = team
    entry = InboxEntry.objects.get(person=owner)
    assert (entry.kind, entry.deliverable, entry.actor) == (
        InboxKind.OWNER_ASSIGNED,
        deliverable,
        manager,
    )
    assert entry.message == "Mari Kobayashi made you the owner"
    assert _kinds(manager) == []


def test_new_owner_is_told_and_nobody_else(team):
    manager, owner, project, deliverable = team
    newcomer = UserFactory(username="aya")
    membership_add(project=project, user=newcomer)
    deliverable_update(
        deliverable=deliverable,
        actor=manager,
        version=None,
        title=deliverable.title,
        owner=newcomer,
        due_date=None,
        type=deliverable.type,
    )
    assert _kinds(newcomer) == [InboxKind.OWNER_ASSIGNED]
    assert _kinds(owner) == [InboxKind.OWNER_ASSIGNED]  # only their own, from planning


def test_status_move_by_someone_else_tells_the_owner(team):
    manager, owner, _project, deliverable = team
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=DeliverableStatus.BLOCKED,
        version=None,
        reason="Waiting for data",
    )
    entry = InboxEntry.objects.get(person=owner, kind=InboxKind.STATUS_CHANGED)
    assert entry.detail == DeliverableStatus.BLOCKED
    assert entry.message == "Mari Kobayashi moved it to Blocked"


def test_done_override_is_one_entry_for_the_owner(team):
    manager, owner, _project, deliverable = team
    for status in (DeliverableStatus.IN_PROGRESS, DeliverableStatus.IN_REVIEW):
        deliverable_transition(deliverable=deliverable, actor=owner, to_status=status, version=None)
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=DeliverableStatus.DONE,
        version=None,
        override_reason="Shipped anyway",
    )
    entries = InboxEntry.objects.filter(person=owner, kind=InboxKind.STATUS_CHANGED)
    assert [entry.message for entry in entries] == [
        "Mari Kobayashi marked it done with required items open"
    ]


def test_owner_moving_their_own_work_is_not_told(team):
    _manager, owner, _project, deliverable = team
    deliverable_transition(
        deliverable=deliverable, actor=owner, to_status=DeliverableStatus.IN_PROGRESS, version=None
    )
    comment_add(deliverable=deliverable, actor=owner, body="Started.")
    assert _kinds(owner) == [InboxKind.OWNER_ASSIGNED]


def test_comment_by_someone_else_tells_the_owner(team):
    manager, owner, _project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Looks good.")
    assert _kinds(owner) == [InboxKind.OWNER_ASSIGNED, InboxKind.COMMENTED]
    assert _kinds(manager) == []


def test_mention_tells_the_person_named_not_the_author(team):
    manager, _owner, project, deliverable = team
    colleague = UserFactory(username="aya", first_name="Aya", last_name="Mori")
    membership_add(project=project, user=colleague)
    comment_add(deliverable=deliverable, actor=manager, body="@aya @mari please look")
    entry = InboxEntry.objects.get(person=colleague)
    assert (entry.kind, entry.deliverable, entry.actor) == (
        InboxKind.MENTIONED,
        deliverable,
        manager,
    )
    assert entry.message == "Mari Kobayashi mentioned you in a comment"
    assert _kinds(manager) == []


def test_role_given_tells_the_person_not_the_actor(team):
    manager, owner, project, _deliverable = team
    membership = Membership.objects.get(project=project, user=owner)
    role_assign(membership=membership, role=role("ml-engineer"), actor=manager)
    entry = InboxEntry.objects.get(person=owner, kind=InboxKind.ROLE_ASSIGNED)
    assert entry.deliverable is None
    assert entry.message == f"Mari Kobayashi assigned you the role {role('ml-engineer').name}"
    own = Membership.objects.get(project=project, user=manager)
    role_assign(membership=own, role=role("ml-engineer"), actor=manager)
    assert _kinds(manager) == []


def test_feeding_the_same_change_twice_writes_once(team):
    manager, owner, _project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Once.")
    event = DeliverableEvent.objects.filter(deliverable=deliverable).latest("pk")
    history_recorded.send(sender=DeliverableEvent, entries=[event])
    history_recorded.send(sender=DeliverableEvent, entries=[event])
    assert _kinds(owner) == [InboxKind.OWNER_ASSIGNED, InboxKind.COMMENTED]


def test_a_change_rolled_back_leaves_no_entry(team):
    manager, owner, _project, deliverable = team
    with pytest.raises(RuntimeError), transaction.atomic():
        comment_add(deliverable=deliverable, actor=manager, body="@kenji never mind")
        assert InboxEntry.objects.filter(person=owner).count() == 3
        raise RuntimeError
    assert _kinds(owner) == [InboxKind.OWNER_ASSIGNED]


# --- reading -----------------------------------------------------------------------------


def test_unread_count_mark_read_and_mark_all_read(team):
    manager, owner, _project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="One.")
    comment_add(deliverable=deliverable, actor=manager, body="Two.")
    assert selectors.unread_count(owner) == 3
    first = selectors.inbox_entries(owner).last()
    assert services.inbox_mark_read(user=owner, entry_id=first.pk) is True
    assert services.inbox_mark_read(user=owner, entry_id=first.pk) is False
    assert services.inbox_mark_read(user=manager, entry_id=first.pk) is False
    assert selectors.unread_count(owner) == 2
    newest = selectors.inbox_newest_id(owner)
    assert services.inbox_mark_all_read(user=owner, newest_id=newest) == 2
    assert selectors.unread_count(owner) == 0


def test_entries_about_a_project_no_longer_seen_disappear(team, client):
    manager, owner, project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Seen?")
    assert selectors.unread_count(owner) == 2
    membership_remove(
        membership=Membership.objects.get(project=project, user=owner), actor=manager, version=None
    )
    assert InboxEntry.objects.filter(person=owner).count() == 2  # kept, not shown
    assert list(selectors.inbox_entries(owner)) == []
    assert selectors.unread_count(owner) == 0
    client.force_login(owner)
    response = client.get(reverse("notifications:inbox"))
    assert "PRD for churn" not in response.content.decode()
    assert "Your inbox is empty." in response.content.decode()
    assert b"badge" not in client.get(reverse("notifications:inbox_count")).content


# --- pages -------------------------------------------------------------------------------


def test_inbox_page_lists_entries_with_links_and_unread_marks(team, client):
    _manager, owner, _project, deliverable = team
    client.force_login(owner)
    response = client.get(reverse("notifications:inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mari Kobayashi made you the owner" in html
    entry = InboxEntry.objects.get(person=owner, deliverable=deliverable)
    assert reverse("notifications:inbox_open", args=[entry.pk]) in html  # then its page
    assert "list-group-item-primary" in html
    count = client.get(reverse("notifications:inbox_count"))
    assert 'data-testid="inbox-count">1<' in count.content.decode()


def test_empty_inbox_says_so(client, member):
    client.force_login(member)
    assert "Your inbox is empty." in client.get(reverse("notifications:inbox")).content.decode()
    assert client.get(reverse("notifications:inbox_count")).content.strip() == b""


def test_mark_read_by_form_redirects_and_by_htmx_returns_the_row(team, client):
    manager, owner, _project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Another.")
    first, second = selectors.inbox_entries(owner)
    client.force_login(owner)
    url = reverse("notifications:inbox_read", args=[first.pk])
    response = client.post(url, {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:inbox") + "?page=1"
    url = reverse("notifications:inbox_read", args=[second.pk])
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Trigger"] == "inbox-changed"
    assert f'id="inbox-entry-{second.pk}"' in response.content.decode()
    assert "list-group-item-primary" not in response.content.decode()
    assert selectors.unread_count(owner) == 0


def test_mark_all_read_by_form_and_by_htmx(team, client):
    manager, owner, _project, deliverable = team
    client.force_login(owner)
    url = reverse("notifications:inbox_read_all")
    newest = {"newest": selectors.inbox_newest_id(owner)}
    response = client.post(url, newest, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="inbox-list"' in response.content.decode()
    assert "list-group-item-primary" not in response.content.decode()
    assert response["HX-Trigger"] == "inbox-changed"
    assert selectors.unread_count(owner) == 0
    comment_add(deliverable=deliverable, actor=manager, body="Again.")
    assert client.post(url, {"newest": selectors.inbox_newest_id(owner)}).status_code == 302
    assert selectors.unread_count(owner) == 0


def test_someone_elses_entry_is_404(team, client):
    manager, owner, _project, _deliverable = team
    entry = InboxEntry.objects.get(person=owner)
    client.force_login(manager)
    response = client.post(reverse("notifications:inbox_read", args=[entry.pk]))
    assert response.status_code == 404
    assert InboxEntry.objects.get(pk=entry.pk).read_at is None


def test_following_an_entry_marks_it_read_and_opens_its_page(team, client):
    manager, owner, _project, deliverable = team
    entry = InboxEntry.objects.get(person=owner)
    client.force_login(manager)  # someone else's entry: not found, still unread
    assert client.get(reverse("notifications:inbox_open", args=[entry.pk])).status_code == 404
    assert InboxEntry.objects.get(pk=entry.pk).read_at is None
    client.force_login(owner)
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert reverse("notifications:inbox_open", args=[entry.pk]) in inbox
    response = client.get(reverse("notifications:inbox_open", args=[entry.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("deliverables:detail", args=[deliverable.pk])
    assert InboxEntry.objects.get(pk=entry.pk).read_at is not None
    assert selectors.unread_count(owner) == 0


def test_writes_need_post(team, client):
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    entry = InboxEntry.objects.get(person=owner)
    assert client.get(reverse("notifications:inbox_read", args=[entry.pk])).status_code == 405
    assert client.get(reverse("notifications:inbox_read_all")).status_code == 405


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    # The bell of a page whose session ran out swaps nothing in.
    assert client.get(reverse("notifications:inbox_count")).status_code == 204


def test_bell_asks_for_its_count_after_the_page_loads(client, member, settings):
    settings.INBOX_POLL_SECONDS = 7
    client.force_login(member)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert 'class="bi bi-bell"' in html
    assert f'hx-get="{reverse("notifications:inbox_count")}"' in html
    assert 'hx-trigger="load, every 7s, inbox-changed from:body"' in html


def _grow(team, n: int) -> None:
    manager, _owner, _project, deliverable = team
    for i in range(n):
        comment_add(deliverable=deliverable, actor=manager, body=f"Note {i}")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_inbox_page_and_count_cost_the_same_at_3_and_30_entries(team, client):
    # Page: session, user, the person's permissions (visibility), the paginator's
    # count, the page's entries with actor, project, deliverable and its type.
    # Count: session, user, permissions, the count.
    _manager, owner, _project, _deliverable = team
    client.force_login(owner)
    page, count = reverse("notifications:inbox"), reverse("notifications:inbox_count")
    _grow(team, 2)
    small = _queries(client, page), _queries(client, count)
    _grow(team, 27)
    assert InboxEntry.objects.filter(person=owner).count() == 30
    assert (_queries(client, page), _queries(client, count)) == small


# --- purge -------------------------------------------------------------------------------


def test_purge_deletes_entries_older_than_90_days_and_is_idempotent(team):
    manager, owner, _project, deliverable = team
    comment_add(deliverable=deliverable, actor=manager, body="Recent.")
    old = InboxEntry.objects.get(person=owner, kind=InboxKind.OWNER_ASSIGNED)
    InboxEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    assert tasks.inbox_purge() == 1
    assert tasks.inbox_purge() == 0
    assert _kinds(owner) == [InboxKind.COMMENTED]


def test_purge_is_scheduled_daily():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="notifications.inbox_purge")
    assert (task.interval.every, task.interval.period) == (1, "days")


def test_mark_all_read_by_htmx_returns_the_page_it_was_sent_from(team, client):
    _manager, owner, _project, _deliverable = team
    _grow(team, 30)  # 31 entries: two pages
    client.force_login(owner)
    response = client.post(
        reverse("notifications:inbox_read_all"),
        {"page": "2", "newest": selectors.inbox_newest_id(owner)},
        headers={"HX-Request": "true"},
    )
    assert "Page 2 of 2" in response.content.decode()
