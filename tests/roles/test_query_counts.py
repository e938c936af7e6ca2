"""Every list and the coverage matrix cost the same number of queries at two sizes."""

from __future__ import annotations

from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.services import membership_add, project_create, role_assign
from tests.factories import DeliverableFactory, UserFactory, manager_user, role

pytestmark = pytest.mark.django_db

_names = count()
ROLE_SLUGS = ["ml-product-manager", "data-scientist", "ml-engineer", "data-engineer"]


def _grow(manager, *, projects: int, people_per_project: int):
    """Projects managed by `manager`, each with people holding roles and deliverables."""
    created = []
    for _ in range(projects):
        project = project_create(name=f"Project {next(_names)}", managers=[manager])
        for k in range(people_per_project):
            person = UserFactory()
            membership = membership_add(project=project, user=person)
            role_assign(membership=membership, role=role(ROLE_SLUGS[k % 4]), allocation_percent=30)
            if k % 2:
                role_assign(
                    membership=membership, role=role("devops-engineer"), allocation_percent=10
                )
            DeliverableFactory(project=project, owner=person)
        created.append(project)
    return created


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url_name",
    ["roles:project_list", "roles:portfolio_coverage", "roles:people_list", "roles:role_list"],
)
def test_list_pages_do_not_grow_with_data(client, url_name):
    # Queries: session, user, permissions (own and groups' in one), the page's
    # count and rows, and one per prefetch (managers / required roles, memberships,
    # assignments). None per row.
    manager = manager_user()
    client.force_login(manager)
    _grow(manager, projects=1, people_per_project=1)
    small = _queries(client, reverse(url_name))
    _grow(manager, projects=6, people_per_project=4)
    assert _queries(client, reverse(url_name)) == small


def test_role_detail_does_not_grow_with_holders(client):
    manager = manager_user()
    client.force_login(manager)
    _grow(manager, projects=1, people_per_project=1)
    url = reverse("roles:role_detail", args=["data-scientist"])
    small = _queries(client, url)
    _grow(manager, projects=5, people_per_project=8)
    assert _queries(client, url) == small


@pytest.mark.parametrize("url_name", ["roles:project_detail", "roles:project_team"])
def test_project_and_team_pages_do_not_grow_with_team_size(client, url_name):
    # Project page queries: session, user, permissions, the project, its managers,
    # the team with its assignments (one query), required roles, allocation totals,
    # suggestions for unfilled roles, activity, the status counts, the first open
    # deliverables and their checklist progress, those due in 30 days, the handbook.
    # The team page prefetches the team instead; it reads no list of people to add
    # (once a <select> of everyone off the team, now a search: one query more with
    # ?find=, tests/roles/test_team_search.py).
    manager = manager_user()
    client.force_login(manager)
    (small_project,) = _grow(manager, projects=1, people_per_project=1)
    (large_project,) = _grow(manager, projects=1, people_per_project=9)
    _grow(manager, projects=3, people_per_project=2)  # other projects feed suggestions
    small = _queries(client, reverse(url_name, args=[small_project.pk]))
    large = _queries(client, reverse(url_name, args=[large_project.pk]))
    assert large == small
