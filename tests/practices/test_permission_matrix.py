"""Every URL of issue 7 x its six personas: status code, and nothing changed when refused.

Reviews are private to the person, the manager who wrote them and admins: for
anyone else a review does not exist (404), even for another manager of the
same person.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import resolve, reverse

from deliverables.models import Deliverable
from tests.practices.conftest import PERSONAS, practices_snapshot

LOGIN = "login"
EVERYONE = {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 200)}
# Handbook set-up: the project's managers (both) and admins.
SETUP_POST = {
    "anonymous": LOGIN,
    "person": 403,
    "manager": 302,
    "other_manager": 302,
    "other_member": 403,
    "admin": 302,
}
SETUP_GET = {**SETUP_POST, "manager": 200, "other_manager": 200, "admin": 200}
MANAGERS_GET = {**SETUP_GET}
MANAGERS_POST = {**SETUP_POST}
CYCLE_EDIT_GET = {**SETUP_GET, "other_manager": 403}  # the creator (manager) and admins
CYCLE_EDIT_POST = {**SETUP_POST, "other_manager": 403}
# A review: the person and the writing manager see it, admins too; others get 404.
REVIEW_READ = {
    "anonymous": LOGIN,
    "person": 200,
    "manager": 200,
    "other_manager": 404,
    "other_member": 404,
    "admin": 200,
}
WRITER_GET = {**REVIEW_READ, "person": 403, "admin": 403}
# Who read a review: the person and admins; for the writing manager it does not exist.
READS_GET = {**REVIEW_READ, "manager": 404}
WRITER_POST = {**WRITER_GET, "manager": 302}
PERSON_POST = {**REVIEW_READ, "person": 302, "manager": 403, "admin": 403}


def _urls(p):
    project, review, cycle = p.project, p.review, p.cycle
    other = p.people["other_member"]
    start = cycle.start_date
    cycle_data = {
        "name": "Renamed",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=90)).isoformat(),
        "expectations_due_days": 10,
    }
    return {
        "handbook": ("get", reverse("practices:handbook", args=[project.pk]), None, EVERYONE),
        "handbook_newcomer": (
            "get",
            reverse("practices:handbook_newcomer", args=[project.pk]),
            None,
            EVERYONE,
        ),
        "handbook_review_date": (
            "post",
            reverse("practices:handbook_review_date", args=[project.pk]),
            {"review_on": "2027-01-31", "version": project.version},
            SETUP_POST,
        ),
        "handbook_question_add": (
            "post",
            reverse("practices:handbook_question_add", args=[project.pk]),
            {"area": "SQL", "text": "Where do views live?", "answer_kind": "text"},
            SETUP_POST,
        ),
        "handbook_question_remove_confirm": (
            "get",
            reverse("practices:handbook_question_remove", args=[project.pk, p.question.pk]),
            None,
            SETUP_GET,
        ),
        "handbook_question_remove": (
            "post",
            reverse("practices:handbook_question_remove", args=[project.pk, p.question.pk]),
            {"version": Deliverable.objects.get(pk=p.handbook.pk).version},
            SETUP_POST,
        ),
        "cycle_list": ("get", reverse("reviews:cycle_list"), None, EVERYONE),
        "cycle_create_form": ("get", reverse("reviews:cycle_create"), None, MANAGERS_GET),
        "cycle_create": ("post", reverse("reviews:cycle_create"), cycle_data, MANAGERS_POST),
        "cycle_detail": (
            "get",
            reverse("reviews:cycle_detail", args=[cycle.pk]),
            None,
            EVERYONE,
        ),
        "cycle_edit_form": (
            "get",
            reverse("reviews:cycle_edit", args=[cycle.pk]),
            None,
            CYCLE_EDIT_GET,
        ),
        "cycle_edit": (
            "post",
            reverse("reviews:cycle_edit", args=[cycle.pk]),
            {**cycle_data, "version": cycle.version},
            CYCLE_EDIT_POST,
        ),
        # Expectations for `other_member`, whom both managers manage (admins manage
        # nobody here: they read every review but write only for their own teams).
        "expectations_create_form": (
            "get",
            reverse("reviews:expectations_create", args=[cycle.pk, other.pk]),
            None,
            {**MANAGERS_GET, "other_member": 403, "admin": 404},
        ),
        "expectations_create": (
            "post",
            reverse("reviews:expectations_create", args=[cycle.pk, other.pk]),
            {"expectations": "Ship the pipeline."},
            {**MANAGERS_POST, "other_member": 403, "admin": 404},
        ),
        "review_detail": (
            "get",
            reverse("reviews:review_detail", args=[review.pk]),
            None,
            REVIEW_READ,
        ),
        "review_reads": (
            "get",
            reverse("reviews:review_reads", args=[review.pk]),
            None,
            READS_GET,
        ),
        "expectations_edit_form": (
            "get",
            reverse("reviews:expectations_edit", args=[review.pk]),
            None,
            WRITER_GET,
        ),
        "expectations_edit": (
            "post",
            reverse("reviews:expectations_edit", args=[review.pk]),
            {"version": review.version, "expectations": "Changed expectations."},
            WRITER_POST,
        ),
        "expectations_acknowledge": (
            "post",
            reverse("reviews:expectations_acknowledge", args=[review.pk]),
            {"version": review.version},
            PERSON_POST,
        ),
        "evaluation_edit_form": (
            "get",
            reverse("reviews:evaluation_edit", args=[review.pk]),
            None,
            WRITER_GET,
        ),
        "evaluation_edit": (
            "post",
            reverse("reviews:evaluation_edit", args=[review.pk]),
            {
                "version": review.evaluation_version,
                "quality_code": 5,
                "quality_documentation": 4,
                "quality_collaboration": 4,
                "expectations_met": 4,
                "evaluation_comment": "Changed evaluation.",
            },
            WRITER_POST,
        ),
        "evaluation_acknowledge": (
            "post",
            reverse("reviews:evaluation_acknowledge", args=[review.pk]),
            {"version": review.version},
            PERSON_POST,
        ),
        "self_assessment": (
            "post",
            reverse("reviews:self_assessment", args=[review.pk]),
            {"version": review.version, "self_assessment": "Changed self-assessment."},
            PERSON_POST,
        ),
    }


NAMES = [
    "handbook", "handbook_newcomer", "handbook_review_date", "handbook_question_add",
    "handbook_question_remove_confirm", "handbook_question_remove", "cycle_list",
    "cycle_create_form", "cycle_create", "cycle_detail", "cycle_edit_form", "cycle_edit",
    "expectations_create_form", "expectations_create", "review_detail", "review_reads",
    "expectations_edit_form", "expectations_edit", "expectations_acknowledge",
    "evaluation_edit_form", "evaluation_edit", "evaluation_acknowledge", "self_assessment",
]  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", NAMES)
def test_permission_matrix(client, practices, name, persona):
    method, url, data, expected = _urls(practices)[name]
    expected = expected[persona]
    user = practices.people[persona]
    if user is not None:
        client.force_login(user)
    before = practices_snapshot()
    response = getattr(client, method)(url, data or {})
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:500]
    assert (practices_snapshot() != before) is (method == "post" and expected == 302), persona


def test_matrix_covers_every_url_of_the_issue(practices):
    from deliverables.practices import urls as handbook_urls
    from deliverables.reviews import urls as reviews_urls

    covered = {resolve(entry[1]).url_name for entry in _urls(practices).values()}
    patterns = [*handbook_urls.urlpatterns, *reviews_urls.urlpatterns]
    assert covered == {pattern.name for pattern in patterns}
