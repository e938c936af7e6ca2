"""The admin lists and change pages this project customises cost the same number
of queries at two sizes (read-only inlines load their people with the rows)."""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables import services as deliverable_services
from deliverables.reviews import services as reviews_services
from roles import services as team
from tests.factories import UserFactory, deliverable_type, role

pytestmark = pytest.mark.django_db

_serial = count()


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _grow(manager, *, projects: int, people: int):
    """Projects with people holding roles, deliverables with comments and links,
    review cycles, and catalogue entries: `projects` and `people` of each."""
    created = []
    for _ in range(projects):
        n = next(_serial)
        project = team.project_create(name=f"Project {n}", actor=manager, managers=[manager])
        for k in range(people):
            person = UserFactory()
            membership = team.membership_add(project=project, user=person, actor=manager)
            team.role_assign(membership=membership, role=role("data-scientist"), actor=manager)
            team.role_assign(membership=membership, role=role("ml-engineer"), actor=manager)
            deliverable = deliverable_services.deliverable_create(
                project=project, type=deliverable_type("prd"), owner=person, actor=manager
            )
            deliverable_services.comment_add(deliverable=deliverable, actor=person, body="Note")
            deliverable_services.link_add(
                deliverable=deliverable, actor=person, kind="document", url=f"https://x.test/{k}"
            )
        reviews_services.cycle_create(
            actor=manager,
            name=f"Cycle {n}",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 6, 30),
            expectations_due_days=14,
        )
        new_role = team.role_create(name=f"Role {n}", slug=f"role-{n}")
        for k in range(people):
            kind = deliverable_services.deliverable_type_create(
                name=f"Type {n}.{k}", slug=f"type-{n}-{k}", role=new_role
            )
            deliverable_services.checklist_template_add(
                deliverable_type=kind, version=None, text=f"Item {n}.{k}"
            )
        created.append(project)
    return created


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "model",
    [
        "deliverables_deliverable",
        "deliverables_deliverabletype",
        "deliverables_checklistitemtemplate",
        "reviews_reviewcycle",
        "roles_project",
        "roles_membership",
        "roles_roleassignment",
        "roles_role",
    ],
)
def test_admin_lists_do_not_grow_with_rows(client, root, manager, model):
    # Queries: session, user, the filters' choices, the count(s) and the page of rows
    # with their related rows joined (list_select_related). None per row.
    client.force_login(root)
    url = reverse(f"admin:{model}_changelist")
    _grow(manager, projects=1, people=1)
    small = _queries(client, url)
    _grow(manager, projects=4, people=4)
    assert _queries(client, url) == small


def _project_pages(project):
    membership = project.memberships.first()
    deliverable = project.deliverables.first()
    return [
        reverse("admin:roles_project_change", args=[project.pk]),
        reverse("admin:roles_membership_change", args=[membership.pk]),
        reverse("admin:deliverables_deliverable_change", args=[deliverable.pk]),
    ]


def _same_queries(client, small: str, large: str) -> None:
    client.get(small)  # caches what any page reads once (content types)
    assert _queries(client, large) == _queries(client, small), large


def test_admin_change_pages_do_not_grow_with_their_rows(client, root, manager):
    # The project page lists its team, the membership page its roles, the
    # deliverable page its checklist, links and comments: each one query with its
    # people joined, whatever the number of rows.
    client.force_login(root)
    [small_project] = _grow(manager, projects=1, people=1)
    [large_project] = _grow(manager, projects=1, people=6)
    membership = large_project.memberships.first()
    for slug in ["devops-engineer", "data-engineer", "ml-product-manager"]:
        team.role_assign(membership=membership, role=role(slug), actor=manager)
    deliverable = large_project.deliverables.first()
    for k in range(5):
        deliverable_services.comment_add(deliverable=deliverable, actor=manager, body=f"c{k}")
        deliverable_services.link_add(
            deliverable=deliverable, actor=manager, kind="document", url=f"https://y.test/{k}"
        )
    for small, large in zip(
        _project_pages(small_project), _project_pages(large_project), strict=True
    ):
        _same_queries(client, small, large)


def test_catalogue_change_pages_do_not_grow_with_their_rows(client, root, manager):
    # A role lists its deliverable types, a type its checklist templates.
    client.force_login(root)
    small_role = team.role_create(name="Small role", slug="small-role")
    small_type = deliverable_services.deliverable_type_create(
        name="Small type", slug="small-type", role=small_role
    )
    large_role = team.role_create(name="Large role", slug="large-role")
    for k in range(6):
        large_type = deliverable_services.deliverable_type_create(
            name=f"Large type {k}", slug=f"large-type-{k}", role=large_role
        )
        deliverable_services.checklist_template_add(
            deliverable_type=large_type, version=None, text=f"Item {k}"
        )
    for small, large in [(small_role, large_role), (small_type, large_type)]:
        info = (small._meta.app_label, small._meta.model_name)
        url = "admin:{}_{}_change".format(*info)
        _same_queries(client, reverse(url, args=[small.pk]), reverse(url, args=[large.pk]))
