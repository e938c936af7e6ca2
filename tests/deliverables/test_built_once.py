"""Subqueries built once per process (they read only the outer row) stay as they
were built however many pages use them, for whichever viewer: a page resolves a
copy, never the kept one, so nothing of one request can leak into another's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deliverables import selectors as deliverable_selectors
from deliverables.services import deliverable_create
from roles import selectors as role_selectors
from roles.services import membership_add, project_create
from tests.factories import UserFactory, admin_user, deliverable_type, manager_user

pytestmark = pytest.mark.django_db

BUILT_ONCE = [
    role_selectors._gap_count,
    role_selectors._member_count,
    deliverable_selectors._progress,
    deliverable_selectors._progress_figures,
    deliverable_selectors._handbook_columns,
    deliverable_selectors._type_role_columns,
    deliverable_selectors._owner_names,
    deliverable_selectors._card_columns,
]


def _as_built() -> list[str]:
    """Each kept expression as its inner queries would be written."""

    def queries(value) -> list[str]:
        if isinstance(value, dict):
            return [text for item in value.values() for text in queries(item)]
        if isinstance(value, tuple):
            return [text for item in value for text in queries(item)]
        found = []
        for source in value.flatten():
            query = getattr(source, "query", None)
            if query is not None and hasattr(query, "where"):
                found.append(f"{query.model.__name__}: {query.where!r} {query.annotations!r}")
        return found

    return [text for build in BUILT_ONCE for text in queries(build())]


def test_subqueries_built_once_are_never_changed_by_the_pages_that_use_them(client):
    manager = manager_user(username="lead")
    member = UserFactory(username="kenji")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership_add(project=project, user=member, actor=manager)
    deliverable_create(project=project, type=deliverable_type("prd"), owner=member, actor=manager)
    before = _as_built()
    assert before  # the kept expressions do hold queries
    pages = [
        reverse("deliverables:portfolio_dashboard"),
        reverse("deliverables:portfolio_activity"),
        reverse("home"),
        reverse("roles:project_detail", args=[project.pk]),
        reverse("roles:project_list"),
        reverse("roles:portfolio_coverage"),
        reverse("deliverables:list") + "?overdue=on",
        reverse("deliverables:my_work"),
    ]
    for person in (manager, member, admin_user(username="root")):
        client.force_login(person)
        for url in pages:
            assert client.get(url).status_code in (200, 403)
    assert _as_built() == before
