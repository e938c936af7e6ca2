from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.services import membership_add, role_assign
from tests.factories import (
    DeliverableFactory,
    ProjectFactory,
    role,
)

pytestmark = pytest.mark.django_db


def _project_for(user, *, with_deliverables: int):
    project = ProjectFactory()
    # Through the service, which moves the person's cache version: their home
    # page covers one more project.
    membership = membership_add(project=project, user=user)
    for _ in range(with_deliverables):
        DeliverableFactory(project=project, owner=user, due_date=datetime.date(2020, 1, 1))
    role_assign(membership=membership, role=role("ml-engineer"))
    return project


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries)


def test_home_query_count_does_not_grow_with_data(client, member):
    # Queries: session, user, permissions (own and groups' in one), the visible
    # active projects' ids, work (overdue
    # and due within a week), roles, recent changes, projects (counts as subqueries),
    # reviews waiting. The same at both sizes.
    client.force_login(member)
    _project_for(member, with_deliverables=1)
    small = _count_queries(client)
    for _ in range(4):
        _project_for(member, with_deliverables=3)
    assert _count_queries(client) == small


def test_home_lists_only_my_projects_and_open_deliverables(client, member):
    mine = _project_for(member, with_deliverables=1)
    other = ProjectFactory(name="Someone else's")
    DeliverableFactory(project=mine, owner=member, title="Finished one", status="done")
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert mine.name in page
    assert other.name not in page
    assert "Finished one" not in page


def test_home_has_empty_states(client, member):
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert "You are not on any project yet." in page
    assert "Nothing of yours is overdue." in page
    assert "You hold no role on a project yet." in page


def test_member_home_shows_late_soon_roles_and_what_others_changed(client, member):
    from deliverables.services import comment_add, deliverable_create
    from roles.services import membership_add, project_create
    from tests.factories import deliverable_type, manager_user

    today = datetime.date.today()
    manager = manager_user()
    project = project_create(name="Home project", managers=[manager])
    role_assign(
        membership=membership_add(project=project, user=member), role=role("data-scientist")
    )
    late = deliverable_create(
        project=project, type=deliverable_type("prd"), title="Late one", owner=member,
        due_date=today - datetime.timedelta(days=2),
    )  # fmt: skip
    deliverable_create(
        project=project, type=deliverable_type("analysis-report"), title="Soon one", owner=member,
        due_date=today + datetime.timedelta(days=3),
    )  # fmt: skip
    deliverable_create(
        project=project, type=deliverable_type("deployed-model"), title="Far one", owner=member,
        due_date=today + datetime.timedelta(days=40),
    )  # fmt: skip
    comment_add(deliverable=late, actor=manager, body="Where are we?")
    comment_add(deliverable=late, actor=member, body="My own note.")
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    overdue = page.split('id="overdue-heading"')[1].split('id="soon-heading"')[0]
    soon = page.split('id="soon-heading"')[1].split('id="changes-heading"')[0]
    changes = page.split('id="changes-heading"')[1].split('id="roles-heading"')[0]
    assert "Late one" in overdue and "Soon one" not in overdue
    assert "Soon one" in soon and "Far one" not in soon
    assert changes.count("commented") == 1  # the manager's comment; their own is left out
    assert "Data scientist" in page.split('id="roles-heading"')[1]


def test_home_says_when_it_shows_only_the_first_of_many(client, member):
    for _ in range(12):
        _project_for(member, with_deliverables=1)  # each: one deliverable, long overdue
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    overdue = page.split('id="overdue-heading"')[1].split('id="soon-heading"')[0]
    assert overdue.count('class="list-group-item"') == 8
    assert "The 8 most overdue of 12: see them all" in overdue
    assert reverse("deliverables:my_work") in overdue
    projects = page.split('id="projects-heading"')[1]
    assert projects.count("list-group-item-action") == 10
    assert "See all your 12 projects" in projects and reverse("roles:project_list") in projects


def test_home_says_nothing_more_when_it_shows_everything(client, member):
    _project_for(member, with_deliverables=2)
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    assert "most overdue of" not in page and "See all your" not in page


def test_recent_changes_name_the_project_of_each_deliverable(client, member):
    """Two "planned the deliverable: Deployed model" lines from different projects
    are told apart by their project, linked, at no query per row."""
    import re

    from deliverables.services import deliverable_create
    from roles.services import membership_add, project_create
    from tests.factories import deliverable_type, manager_user

    manager = manager_user()

    def planned_on(name):
        project = project_create(name=name, managers=[manager])
        role_assign(
            membership=membership_add(project=project, user=member), role=role("ml-engineer")
        )
        deliverable_create(
            project=project, type=deliverable_type("deployed-model"), owner=member, actor=manager
        )
        return project

    def changes_section():
        page = client.get(reverse("home")).content.decode()
        return page.split('id="changes-heading"')[1].split("</section>")[0]

    client.force_login(member)
    churn = planned_on("Churn prediction")
    queries_for_one = _count_queries(client)
    search = planned_on("Search ranking")
    assert _count_queries(client) == queries_for_one
    lines = re.findall(r"<li\b.*?</li>", changes_section(), flags=re.S)
    assert len(lines) == 2
    for line, project in zip(lines, [search, churn], strict=True):  # newest first
        assert "Deployed model" in line
        link = reverse("roles:project_detail", args=[project.pk])
        assert f'<a href="{link}">{project.name}</a>' in line


def test_a_member_reads_on_home_that_their_work_was_cancelled_and_why(client, member):
    """What changed, not only that something did: a cancel shows its status and reason."""
    from deliverables.models import DeliverableStatus
    from deliverables.services import deliverable_create, deliverable_transition
    from roles.services import membership_add, project_create
    from tests.factories import deliverable_type, manager_user

    manager = manager_user()
    project = project_create(name="Pricing", managers=[manager])
    membership_add(project=project, user=member)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), owner=member, actor=manager
    )
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=DeliverableStatus.CANCELLED,
        version=deliverable.version,
        reason="Replaced by the pricing project.",
    )
    client.force_login(member)
    page = client.get(reverse("home")).content.decode()
    changes = page.split('id="changes-heading"')[1].split("</section>")[0]
    assert "Not started → Cancelled: Replaced by the pricing project." in changes
