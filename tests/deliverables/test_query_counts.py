"""Deliverable lists and pages cost the same number of queries at two data sizes."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.services import (
    comment_add,
    comment_delete,
    comment_edit,
    deliverable_create,
    link_add,
)
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db
_names = count()
TYPES = ["prd", "analysis-report", "deployed-model", "data-pipeline", "process-documentation"]


def _grow(manager, member, *, projects: int, per_project: int) -> list:
    created = []
    for _ in range(projects):
        project = project_create(name=f"Project {next(_names)}", managers=[manager])
        role_assign(
            membership=membership_add(project=project, user=member), role=role("ml-engineer")
        )
        membership_add(project=project, user=manager)
        for n in range(per_project):
            deliverable = deliverable_create(
                project=project,
                type=deliverable_type(TYPES[n % len(TYPES)]),
                title=f"D{next(_names)}",
                owner=member,
                actor=manager,
            )
            link_add(
                deliverable=deliverable,
                actor=member,
                kind="document",
                url="https://e.example.com/d",
            )
            comment_add(deliverable=deliverable, actor=manager, body="Note.")
            created.append(deliverable)
    return created


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        reverse("deliverables:list"),
        reverse("deliverables:list") + "?overdue=on&sort=status",
        reverse("deliverables:my_work"),
        reverse("deliverables:export"),
        reverse("home"),
    ],
)
@pytest.mark.parametrize("viewer", ["member", "manager"])
def test_lists_do_not_grow_with_data(client, url, viewer):
    # Queries: session, user, permission lookups, the filter choices (projects,
    # roles, types, owners), the count and the page of rows with their checklist
    # progress as subqueries. None per row.
    manager, member = manager_user(), UserFactory()
    client.force_login(member if viewer == "member" else manager)
    _grow(manager, member, projects=1, per_project=1)
    small = _queries(client, url)
    _grow(manager, member, projects=4, per_project=5)
    assert _queries(client, url) == small


@pytest.mark.parametrize("viewer", ["member", "manager"])
def test_deliverable_page_does_not_grow_with_its_checklist_links_and_comments(client, viewer):
    # Queries: session, user, perms, the deliverable with project/type/owner,
    # checklist items, links, comments, project managers, membership checks, history.
    manager, member = manager_user(), UserFactory()
    client.force_login(member if viewer == "member" else manager)
    (small,) = _grow(manager, member, projects=1, per_project=1)  # a PRD: 8 items
    (*_, large) = _grow(
        manager, member, projects=1, per_project=5
    )  # process documentation: 29 items
    for _ in range(5):
        link_add(deliverable=large, actor=member, kind="dashboard", url="https://d.example.com")
        comment_add(deliverable=large, actor=member, body="More.")
    # Comments edited, deleted and mentioning someone cost nothing more either.
    for number in range(3):
        comment = comment_add(
            deliverable=large, actor=member, body=f"@{manager.username} see {number}."
        )
        comment_edit(comment=comment, actor=member, version=comment.version, body="Seen?")
        comment_delete(comment=comment, actor=member, version=comment.version)
    assert _queries(client, reverse("deliverables:detail", args=[small.pk])) == _queries(
        client, reverse("deliverables:detail", args=[large.pk])
    )


def test_saving_one_checklist_item_does_not_grow_with_the_checklist(client):
    # Queries: session, user, perms, the deliverable with its related rows, the
    # version claim and its read-back, the archived check, the items locked for the
    # update, the update, the history entry, the items read again, the cache bump.
    manager, member = manager_user(), UserFactory()
    client.force_login(member)
    (small,) = _grow(manager, member, projects=1, per_project=1)  # a PRD: 8 items
    (*_, large) = _grow(manager, member, projects=1, per_project=5)  # 29 items

    def save(deliverable) -> int:
        item = deliverable.checklist_items.order_by("pk").first()
        value = {"tick": "on", "text": "An answer.", "link": "https://x.example.com"}
        url = reverse("deliverables:checklist_item", args=[deliverable.pk, item.pk])
        data = {"version": deliverable.version, f"item_{item.pk}": value[item.answer_kind]}
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b"Saved" in response.content
        return len(captured)

    assert save(small) == save(large)


def test_plan_page_does_not_grow_with_the_team(client):
    manager = manager_user()
    client.force_login(manager)
    small = project_create(name=f"Project {next(_names)}", managers=[manager])
    large = project_create(name=f"Project {next(_names)}", managers=[manager])
    role_assign(
        membership=membership_add(project=small, user=UserFactory()), role=role("ml-engineer")
    )
    for slug in [
        "ml-product-manager",
        "engineering-manager",
        "data-scientist",
        "ml-engineer",
        "data-engineer",
    ]:
        role_assign(membership=membership_add(project=large, user=UserFactory()), role=role(slug))
    assert _queries(client, reverse("deliverables:plan", args=[small.pk])) == _queries(
        client, reverse("deliverables:plan", args=[large.pk])
    )


def test_reminder_sweep_queries_grow_with_batches_not_rows(django_capture_on_commit_callbacks):
    """The sweep costs a fixed number of queries per batch of people, whatever the
    number of deliverables; digests are handed over (here: collected) after commit."""
    from datetime import UTC, datetime

    from deliverables import reminders
    from deliverables.models import Digest, Reminder, ReminderPreference

    manager = manager_user()
    project = project_create(name=f"Project {next(_names)}", managers=[manager], escalation_days=0)
    people = [UserFactory() for _ in range(4)]
    for person in people:
        membership_add(project=project, user=person)
        ReminderPreference.objects.create(
            user=person, hour=0, time_zone="UTC", working_days="0,1,2,3,4,5,6"
        )

    def add_late_work(per_person: int) -> None:
        for person in people:
            for n in range(per_person):
                deliverable_create(
                    project=project,
                    type=deliverable_type(TYPES[n % len(TYPES)]),
                    title=f"D{next(_names)}",
                    owner=person,
                    due_date=datetime(2026, 11, 1).date(),
                )

    def sweep_queries(batch_size: int) -> int:
        # Start each sweep from "nothing sent today" (the ledger PROTECTs its digests).
        Reminder.objects.all().delete()
        Digest.objects.all().delete()
        handed = []
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=True),
        ):
            reminders.reminder_sweep(
                now=datetime(2026, 11, 20, 12, tzinfo=UTC),
                send=handed.append,
                batch_size=batch_size,
            )
        assert len(handed) == len(people) + 1  # the four owners and their manager
        return len(captured)

    add_late_work(per_person=1)
    few_rows = sweep_queries(batch_size=2)
    add_late_work(per_person=6)
    assert sweep_queries(batch_size=2) == few_rows  # seven times the rows, same queries
    assert sweep_queries(batch_size=5) < few_rows  # fewer batches, fewer queries


@pytest.mark.parametrize(
    "url",
    [
        reverse("deliverables:list"),
        reverse("deliverables:list") + "?status=cancelled",
        reverse("deliverables:list") + "?status=open",
        reverse("deliverables:my_work"),
        reverse("deliverables:export"),
        reverse("deliverables:portfolio_dashboard"),
        reverse("deliverables:portfolio_activity"),
        reverse("roles:people_list"),
        reverse("roles:project_list"),
        reverse("home"),
    ],
)
def test_cancelled_work_costs_no_query_of_its_own(client, url):
    """Cancelled rows are filtered and counted by the same queries as the rest."""

    from deliverables.services import deliverable_transition

    manager, member = manager_user(), UserFactory()
    client.force_login(manager)
    created = _grow(manager, member, projects=2, per_project=3)

    def cancel(deliverables) -> None:
        for deliverable in deliverables:
            deliverable_transition(
                deliverable=deliverable,
                actor=manager,
                to_status="cancelled",
                version=None,
                reason="Dropped.",
            )

    cancel(created[:1])  # one, so that every list has rows at both sizes
    before = _queries(client, url)
    cancel(created[2::2])
    assert _queries(client, url) == before


def test_a_cancelled_deliverables_page_costs_what_an_open_ones_does(client):
    from deliverables.services import deliverable_transition

    manager, member = manager_user(), UserFactory()
    client.force_login(manager)
    cancelled, kept = _grow(manager, member, projects=1, per_project=2)
    deliverable_transition(
        deliverable=cancelled, actor=manager, to_status="cancelled", version=None, reason="Dropped."
    )
    assert _queries(client, reverse("deliverables:detail", args=[cancelled.pk])) == _queries(
        client, reverse("deliverables:detail", args=[kept.pk])
    )


@pytest.mark.parametrize("viewer", ["member", "manager", "admin"])
def test_project_board_does_not_grow_with_its_deliverables(client, viewer):
    # Queries: session, user, the project (visible_to), the columns' counts (one
    # grouped query), the cards drawn with their checklist progress (one subquery),
    # their projects' managers (prefetched, so the permission to move each card
    # costs none). None per card.
    from deliverables.services import deliverable_transition
    from tests.factories import admin_user

    manager, member = manager_user(), UserFactory()
    viewers = {"member": member, "manager": manager, "admin": admin_user()}
    client.force_login(viewers[viewer])
    (first,) = _grow(manager, member, projects=1, per_project=1)
    url = reverse("deliverables:project_board", args=[first.project_id])
    small = _queries(client, url)
    project = first.project
    for n in range(12):
        deliverable = deliverable_create(
            project=project,
            type=deliverable_type(TYPES[n % len(TYPES)]),
            title=f"D{next(_names)}",
            owner=member if n % 2 else None,
            actor=manager,
        )
        if n % 3 == 0:  # a few columns, a blocked card among them
            deliverable_transition(
                deliverable=deliverable,
                actor=manager,
                to_status="blocked",
                version=deliverable.version,
                reason="Waiting.",
            )
    assert _queries(client, url) == small


def test_my_work_board_does_not_grow_with_work_or_projects(client):
    # Queries: session, user, the list-or-board choice, the columns' counts, the
    # cards (open work and the latest done) with their progress, their projects'
    # managers.
    from deliverables.services import work_view_remember

    manager, member = manager_user(), UserFactory()
    work_view_remember(user=member, view="board")
    client.force_login(member)
    _grow(manager, member, projects=1, per_project=1)
    url = reverse("deliverables:my_work")
    small = _queries(client, url)
    _grow(manager, member, projects=4, per_project=5)
    assert _queries(client, url) == small
