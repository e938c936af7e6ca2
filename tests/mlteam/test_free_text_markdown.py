"""Markdown that people type is rendered, sanitised, wherever they write free text:
a project's business problem, comments, the reasons a deliverable is blocked or was
marked done with items open, a deliverable type's description."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from deliverables.models import Deliverable, DeliverableType
from deliverables.services import comment_add, deliverable_create
from roles.services import membership_add, project_create
from tests.factories import deliverable_type, manager_user

pytestmark = pytest.mark.django_db

HOSTILE = (
    "[docs](https://docs.example.com) <script>alert('x')</script> [click](javascript:alert(1)) "
    '<img src=x onerror="alert(2)"> <a href="javascript:alert(3)">raw</a>'
)


@pytest.fixture
def setting():
    manager = manager_user()
    project = project_create(
        name="Churn", managers=[manager], business_problem="Customers **leave** silently."
    )
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("deployed-model"), owner=manager, actor=manager
    )
    return manager, project, deliverable


def test_a_comment_renders_markdown(client, setting):
    manager, _project, deliverable = setting
    comment_add(deliverable=deliverable, actor=manager, body="Looks **good**, see _notes_.")
    client.force_login(manager)
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "<strong>good</strong>" in page and "<em>notes</em>" in page
    assert "**good**" not in page


def test_the_project_description_renders_markdown(client, setting):
    manager, project, _deliverable = setting
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert "<strong>leave</strong>" in page and "**leave**" not in page


def test_reasons_and_type_descriptions_render_markdown(client, setting):
    manager, _project, deliverable = setting
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status="blocked", blocked_reason="Waiting for **legal**."
    )
    DeliverableType.objects.filter(pk=deliverable.type_id).update(
        description="A model *in production*."
    )
    client.force_login(manager)
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "<strong>legal</strong>" in page
    assert "<em>in production</em>" in page
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status="done", done_override_reason="Signed off by **the owner**."
    )
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "<strong>the owner</strong>" in page


def test_scripts_and_javascript_links_stay_inert_in_every_free_text(client, setting):
    manager, project, deliverable = setting
    project.business_problem = HOSTILE
    project.save()
    comment_add(deliverable=deliverable, actor=manager, body=HOSTILE)
    Deliverable.objects.filter(pk=deliverable.pk).update(status="blocked", blocked_reason=HOSTILE)
    client.force_login(manager)
    for url in [
        reverse("deliverables:detail", args=[deliverable.pk]),
        reverse("roles:project_detail", args=[project.pk]),
    ]:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert not re.search(r"<a\b[^>]*href=[\"']?\s*javascript:", page, re.IGNORECASE), url
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", page, re.IGNORECASE), url
        assert "&lt;script&gt;alert" in page, url  # shown as the text that was typed
        assert '<a href="https://docs.example.com" rel="noopener noreferrer nofollow">docs</a>' in (
            page
        ), url  # while a plain link works


def test_an_image_in_the_business_problem_shows_as_a_link(client, setting):
    manager, project, _deliverable = setting
    project.business_problem = "![img](https://example.com/x.png)"
    project.save()
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert '<a href="https://example.com/x.png" rel="noopener noreferrer nofollow">img</a>' in page
    assert "<p></p>" not in page
