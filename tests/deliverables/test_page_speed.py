"""What the page-speed work changed: the select renders the same HTML faster,
the list's page is chosen on bare rows then hydrated, the portfolio is paginated and
the workload keeps only the busiest people."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django import forms
from django.urls import reverse

from deliverables.models import AnswerKind, Deliverable
from deliverables.selectors import (
    PORTFOLIO_PAGE_SIZE,
    DeliverableFilters,
    deliverable_list,
    deliverable_list_page,
    portfolio_activity,
    portfolio_dashboard,
)
from deliverables.services import deliverable_create
from roles.forms import PlainSelect
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)


def _lines(html: str) -> list[str]:
    return [line.strip() for line in str(html).splitlines() if line.strip()]


@pytest.mark.parametrize("value", ["1", None, "", 2])
def test_plain_select_renders_what_select_renders(value):
    choices = [("", "Any <one>"), (1, "A & B"), (2, "C"), ("1", "again")]
    attrs = {"id": "id_owner", "class": "form-select", "required": True, "disabled": False}
    assert _lines(PlainSelect(choices=choices).render("owner", value, attrs)) == _lines(
        forms.Select(choices=choices).render("owner", value, attrs)
    )


def test_plain_select_falls_back_to_the_template_for_groups():
    choices = [("Group", [(1, "x"), (2, "y")]), (3, "z")]
    assert PlainSelect(choices=choices).render("o", 2) == forms.Select(choices=choices).render(
        "o", 2
    )


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize("sort", ["due", "-due", "title", "project", "status", "owner", "updated"])
def test_list_page_has_the_rows_of_the_full_list_in_the_same_order(sort):
    manager, owner = manager_user(), UserFactory()
    for n in range(3):
        project = project_create(name=f"P{n}", managers=[manager])
        membership_add(project=project, user=owner)
        for k in range(4):
            deliverable_create(
                project=project,
                type=deliverable_type(["prd", "analysis-report"][k % 2]),
                title=f"T{(n * 7 + k * 3) % 10}",
                owner=owner if k % 3 else None,
                due_date=date(2026, 6, 1 + (n + k) % 5) if k != 2 else None,
            )
    filters = DeliverableFilters(sort=sort)
    everything = [d.pk for d in deliverable_list(user=manager, filters=filters, today=TODAY)]
    paged = []
    for number in (1, 2, 3):
        page = deliverable_list_page(
            user=manager, filters=filters, today=TODAY, page_number=number, per_page=5
        )
        assert page.paginator.count == 12
        paged += [d.pk for d in page.object_list]
        assert all(hasattr(d, "items_total") and d.project_name and d.url for d in page.object_list)
    assert paged == everything


@time_machine.travel(TODAY, tick=False)
def test_list_page_counts_checklist_progress_as_the_full_list_does():
    """The page reads its rows' three figures from one subquery (PostgreSQL), the
    full list from one subquery each: the same figures, none for no items."""
    manager, owner = manager_user(), UserFactory()
    project = project_create(name="P", managers=[manager])
    membership_add(project=project, user=owner)
    made = [
        deliverable_create(project=project, type=deliverable_type(slug), title=f"T{n}", owner=owner)
        for n, slug in enumerate(["prd", "analysis-report", "prd", "analysis-report"])
    ]
    made[0].checklist_items.filter(answer_kind=AnswerKind.TICK).update(checked=True)
    made[1].checklist_items.filter(answer_kind=AnswerKind.TEXT).update(answer="Yes.")
    made[2].checklist_items.all().delete()
    filters = DeliverableFilters(sort="title")

    def figures(rows) -> list[tuple]:
        return [(d.pk, d.items_total, d.items_done, d.required_open) for d in rows]

    page = deliverable_list_page(
        user=manager, filters=filters, today=TODAY, page_number=1, per_page=10
    )
    expected = figures(deliverable_list(user=manager, filters=filters, today=TODAY))
    assert figures(page.object_list) == expected
    assert len({row[1:] for row in expected}) == 4  # four different states compared
    assert (made[2].pk, 0, 0, 0) in expected


@time_machine.travel(TODAY, tick=False)
def test_portfolio_is_paginated_and_counts_only_its_page(client):
    manager = manager_user()
    owner = UserFactory()
    for n in range(PORTFOLIO_PAGE_SIZE + 2):
        project = project_create(name=f"Project {n:03}", managers=[manager])
        membership_add(project=project, user=owner)
        deliverable_create(
            project=project, type=deliverable_type("prd"), title="D", owner=owner, due_date=TODAY
        )
    first = portfolio_dashboard(user=manager, today=TODAY)
    second = portfolio_dashboard(user=manager, today=TODAY, page_number=2)
    assert len(first.projects) == PORTFOLIO_PAGE_SIZE
    assert [p.name for p in second.projects] == [
        f"Project {n:03}" for n in (PORTFOLIO_PAGE_SIZE, PORTFOLIO_PAGE_SIZE + 1)
    ]
    assert all(p.total == 1 and p.due_soon == 1 for p in first.projects + second.projects)
    (person,) = portfolio_activity(user=manager, today=TODAY).workload  # every page's projects
    assert person.open_deliverable_count == PORTFOLIO_PAGE_SIZE + 2
    client.force_login(manager)
    page = client.get(reverse("deliverables:portfolio_dashboard") + "?page=2").content.decode()
    assert f"Project {PORTFOLIO_PAGE_SIZE + 1:03}" in page and "Project 000" not in page


@time_machine.travel(TODAY, tick=False)
def test_workload_keeps_the_busiest_people_most_overdue_first():
    manager = manager_user()
    project = project_create(name="Busy", managers=[manager])
    people = [UserFactory() for _ in range(4)]
    for person in people:
        membership_add(project=project, user=person)
    # open, overdue per person: (1, 0), (3, 1), (2, 2), (0, 0 - only done work)
    plan = {0: [date(2026, 7, 1)], 1: [date(2026, 6, 1), None, None], 2: [date(2026, 6, 1)] * 2}
    for index, dues in plan.items():
        for due in dues:
            deliverable_create(
                project=project, type=deliverable_type("prd"), title="D", owner=people[index],
                due_date=due,
            )  # fmt: skip
    done = deliverable_create(
        project=project, type=deliverable_type("prd"), title="D", owner=people[3]
    )
    Deliverable.objects.filter(pk=done.pk).update(status="done")
    rows = portfolio_activity(user=manager, today=TODAY).workload
    assert [(p.pk, p.open_deliverable_count, p.overdue_count) for p in rows] == [
        (people[2].pk, 2, 2), (people[1].pk, 3, 1), (people[0].pk, 1, 0),
    ]  # fmt: skip
    from deliverables.selectors import workload

    assert [p.pk for p in workload(user=manager, today=TODAY, limit=1)] == [people[2].pk]
