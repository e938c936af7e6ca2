from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.services import role_assign
from tests.factories import (
    DeliverableFactory,
    MembershipFactory,
    ProjectFactory,
    role,
)

pytestmark = pytest.mark.django_db


def _project_for(user, *, with_deliverables: int):
    project = ProjectFactory()
    membership = MembershipFactory(project=project, user=user)
    role_assign(membership=membership, role=role("ml-engineer"))
    for _ in range(with_deliverables):
        DeliverableFactory(project=project, owner=user, due_date=datetime.date(2020, 1, 1))
    return project


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return len(queries)


def test_home_query_count_does_not_grow_with_data(client, member):
    # Queries: session, user, [permission checks: user perms + group perms],
    # projects (annotated), memberships prefetch, assignments prefetch,
    # deliverables. The same at both sizes.
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
    assert "Nothing is waiting on you." in page
