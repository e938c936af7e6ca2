"""Every page under a project starts its breadcrumb the same way: Projects / <project>."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from deliverables.services import deliverable_create
from tests.factories import deliverable_type
from tests.roles.conftest import world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _crumbs(html: str) -> list[tuple[str | None, str]]:
    """The breadcrumb's items: (link or None for the current page, text)."""
    (trail,) = re.findall(r'<ol class="breadcrumb">(.*?)</ol>', html, flags=re.S)
    crumbs = []
    for item in re.findall(r"<li\b[^>]*>(.*?)</li>", trail, flags=re.S):
        link = re.search(r'<a href="([^"]*)">(.*?)</a>', item, flags=re.S)
        crumbs.append((link[1], link[2].strip()) if link else (None, item.strip()))
    return crumbs


SUB_PAGES = {
    "roles:project_team": "Team",
    "roles:project_edit": "Edit",
    "roles:project_activity": "Activity",
    "deliverables:plan": "Plan deliverables",
    "practices:handbook": "Team handbook",
    "practices:handbook_newcomer": "Newcomer view",
}


@pytest.mark.parametrize("name", list(SUB_PAGES))
def test_every_project_sub_page_starts_with_projects_then_the_project(
    client,
    world,  # noqa: F811
    name,
):
    project = world.project
    deliverable_create(
        project=project, type=deliverable_type("process-documentation"), actor=None
    )  # so the handbook's newcomer view has a handbook to show
    client.force_login(world.people["manager"])
    response = client.get(reverse(name, args=[project.pk]))
    assert response.status_code == 200
    crumbs = _crumbs(response.content.decode())
    assert crumbs[:2] == [
        (reverse("roles:project_list"), "Projects"),
        (reverse("roles:project_detail", args=[project.pk]), project.name),
    ]
    assert crumbs[-1] == (None, SUB_PAGES[name])


@pytest.mark.parametrize("name", ["deliverables:detail", "deliverables:edit"])
def test_a_deliverables_pages_start_with_projects_then_its_project(
    client,
    world,  # noqa: F811
    name,
):
    project = world.project
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), title="Churn PRD", actor=None
    )
    client.force_login(world.people["manager"])
    response = client.get(reverse(name, args=[deliverable.pk]))
    assert response.status_code == 200
    crumbs = _crumbs(response.content.decode())
    assert crumbs[:2] == [
        (reverse("roles:project_list"), "Projects"),
        (reverse("roles:project_detail", args=[project.pk]), project.name),
    ]


def test_the_project_page_itself_is_the_projects_child(client, world):  # noqa: F811
    client.force_login(world.people["manager"])
    response = client.get(reverse("roles:project_detail", args=[world.project.pk]))
    assert _crumbs(response.content.decode()) == [
        (reverse("roles:project_list"), "Projects"),
        (None, world.project.name),
    ]
