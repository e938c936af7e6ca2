"""Handbook and review pages cost the same number of queries at two data sizes."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.practices import services
from deliverables.reviews import services as reviews_services
from deliverables.services import deliverable_create
from roles.services import membership_add
from tests.factories import UserFactory, deliverable_type

pytestmark = pytest.mark.django_db
_names = count()


def _grow(p, *, people: int, cycles: int) -> None:
    """More people on the project (with reviews and linked work), more cycles,
    more handbook questions and answers."""
    manager = p.people["manager"]
    for _ in range(cycles):
        start = p.cycle.start_date - timedelta(days=400 + next(_names))
        reviews_services.cycle_create(
            actor=manager,
            name=f"Old {next(_names)}",
            start_date=start,
            end_date=start + timedelta(days=100),
            expectations_due_days=14,
        )
    for _ in range(people):
        person = UserFactory(username=f"p{next(_names)}")
        membership_add(project=p.project, user=person, actor=manager)
        work = deliverable_create(
            project=p.project,
            type=deliverable_type("analysis-report"),
            title=f"Work {next(_names)}",
            owner=person,
            actor=manager,
        )
        reviews_services.expectations_write(
            cycle=p.cycle, person=person, actor=manager, text="Ship.", deliverables=[work]
        )
        services.handbook_question_add(
            deliverable=p.handbook,
            actor=manager,
            area="SQL",
            text=f"Question {next(_names)}?",
            answer_kind="text",
            required=False,
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


PAGES = [
    ("manager", lambda p: reverse("reviews:cycle_list")),
    ("manager", lambda p: reverse("reviews:cycle_detail", args=[p.cycle.pk])),
    ("admin", lambda p: reverse("reviews:cycle_detail", args=[p.cycle.pk])),
    ("person", lambda p: reverse("reviews:review_detail", args=[p.review.pk])),
    ("manager", lambda p: reverse("practices:handbook", args=[p.project.pk])),
    ("person", lambda p: reverse("practices:handbook_newcomer", args=[p.project.pk])),
    ("manager", lambda p: reverse("reviews:expectations_edit", args=[p.review.pk])),
]


@pytest.mark.parametrize("viewer,url", PAGES)
def test_pages_do_not_grow_with_data(client, practices, viewer, url):
    client.force_login(practices.people[viewer])
    _grow(practices, people=1, cycles=1)
    small = _queries(client, url(practices))
    _grow(practices, people=6, cycles=4)
    assert _queries(client, url(practices)) == small
