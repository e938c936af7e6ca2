"""The template tags that draw HTML in Python (deliverables_cells, deliverables_activity,
roles_coverage) escape every value people type: project, person, role and deliverable
names, and the text kept in history (reasons, project edits). Each page is drawn with
such values made of markup, and must show them as text."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from deliverables.models import Deliverable
from deliverables.services import deliverable_create, deliverable_transition
from roles.models import Role
from roles.services import membership_add, project_create, project_update, role_assign
from tests.factories import UserFactory, admin_user, deliverable_type, role

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)

# Typed markup, one per value a tag draws; none may reach a page as markup.
PROJECT = '<script>alert("project")</script>'
RENAMED = '<script>alert("renamed")</script>'
OTHER_PROJECT = "<svg onload=alert('other')>"
FIRST = "<img src=x onerror=alert('first')>"
LAST = "<b>last</b>"
SUGGESTED = "<iframe src=//evil>"
ROLE = "<i onmouseover=alert('role')>Data</i>"
TITLE = "<a href=javascript:alert('title')>t</a>"
REASON = "<script>alert('reason')</script>"
MARKUP = [PROJECT, RENAMED, OTHER_PROJECT, FIRST, LAST, SUGGESTED, ROLE, TITLE, REASON]
# Their openings: none may appear unescaped (the page's own <script> elements aside).
RAW = [
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "<iframe src",
    "<b>last",
    "<i onmouseover",
    "<a href=javascript",
]


@pytest.fixture
def hostile():
    admin = admin_user()
    owner = UserFactory(first_name=FIRST, last_name=LAST)
    elsewhere = UserFactory(first_name=SUGGESTED, last_name="")
    Role.objects.filter(slug="data-engineer").update(name=ROLE)
    with time_machine.travel(TODAY, tick=False):
        project = project_create(
            name=PROJECT,
            managers=[admin],
            required_roles=[role("ml-engineer"), role("data-engineer")],
        )
        project = project_update(
            project=project, actor=admin, version=project.version, name=RENAMED
        )
        role_assign(
            membership=membership_add(project=project, user=owner, actor=admin),
            role=role("ml-engineer"),
            actor=admin,
        )
        other = project_create(name=OTHER_PROJECT, managers=[admin])
        role_assign(
            membership=membership_add(project=other, user=elsewhere), role=role("data-engineer")
        )
        late = deliverable_create(
            project=project,
            type=deliverable_type("prd"),
            title=TITLE,
            owner=owner,
            due_date=date(2026, 6, 1),
            actor=admin,
        )
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=TITLE,
            owner=owner,
            due_date=date(2026, 6, 20),
            actor=admin,
        )
        late = Deliverable.objects.get(pk=late.pk)
        deliverable_transition(
            deliverable=late, actor=admin, to_status="blocked", version=late.version, reason=REASON
        )
    return admin, project


def _assert_only_text(html: str) -> None:
    for raw in [*MARKUP, *RAW]:
        assert raw not in html, raw
    assert "&lt;script&gt;" in html


def test_the_project_page_shows_typed_markup_as_text(client, hostile):
    admin, project = hostile
    client.force_login(admin)
    with time_machine.travel(TODAY, tick=False):
        html = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    _assert_only_text(html)
    # Each tag drew its row: the matrix (people, role, suggestion), the overdue and
    # upcoming lists, the progress table and the activity with the reason and edit.
    for shown in ["&lt;img src=x", "&lt;i onmouseover", "&lt;iframe", "&lt;svg onload"]:
        assert shown in html, shown
    assert "&lt;a href=javascript:alert(&#x27;title&#x27;)&gt;t&lt;/a&gt;" in html
    assert "Blocked: &lt;script&gt;alert('reason')&lt;/script&gt;" in html


def test_the_portfolio_and_activity_pages_show_typed_markup_as_text(client, hostile):
    admin, project = hostile
    client.force_login(admin)
    with time_machine.travel(TODAY, tick=False):
        # The portfolio's project rows (its people and activity are the section it
        # fetches, below).
        html = client.get(reverse("deliverables:portfolio_dashboard")).content.decode()
        _assert_only_text(html)
        assert "&lt;svg onload=alert(&#x27;other&#x27;)&gt;" in html  # a project's name
        for url in [
            reverse("deliverables:portfolio_activity"),
            reverse("roles:project_activity", args=[project.pk]),
        ]:
            html = client.get(url).content.decode()
            _assert_only_text(html)
            assert "&lt;img src=x" in html, url
    # The project's edit, old name and new, in its activity's change line.
    assert "alert(&quot;project&quot;)" in html
