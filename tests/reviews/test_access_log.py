"""The review access log (issue 16, part 5): every read of a review by someone
other than its person is recorded (who, when, what, where), shown to the person
on the review page and to admins, and nobody can edit it in the admin.

The world is tests/practices/conftest.py: `manager` wrote `review` about
`person` (expectations, a shared evaluation, a self-assessment);
`other_manager` and `other_member` may not see it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.reviews import services
from deliverables.reviews.models import (
    ReviewAccess,
    ReviewPart,
    ReviewSurface,
)
from mlteam.services import person_anonymise
from tests.factories import UserFactory
from tests.practices.conftest import practices  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

EVERYTHING = ["expectations", "evaluation", "self_assessment", "history"]
MOMENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _reads(review) -> list[tuple]:
    """(reader's username, parts, surface) of each read of `review`, oldest first."""
    return list(
        ReviewAccess.objects.filter(review=review)
        .order_by("pk")
        .values_list("reader__username", "parts", "surface")
    )


def _admin_url(obj, action="change") -> str:
    meta = obj._meta
    args = [] if action in {"changelist", "add"} else [obj.pk]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)


# --- each read path records who, when and what --------------------------------------------


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_reading_the_review_page_records_who_when_and_what(client, practices, persona):  # noqa: F811
    reader = practices.people[persona]
    client.force_login(reader)
    with time_machine.travel(MOMENT, tick=False):
        response = client.get(reverse("reviews:review_detail", args=[practices.review.pk]))
    assert response.status_code == 200
    access = ReviewAccess.objects.get(review=practices.review)
    assert access.reader == reader
    assert access.reader_name == reader.get_full_name()
    assert access.created_at == MOMENT
    assert access.parts == EVERYTHING
    assert access.surface == ReviewSurface.WEB


def test_the_parts_recorded_are_those_written(client, practices):  # noqa: F811
    """A review with expectations only: no evaluation or self-assessment was read."""
    other = practices.people["other_member"]
    review = services.expectations_write(
        cycle=practices.cycle,
        person=other,
        actor=practices.people["manager"],
        text="Ship it.",
        deliverables=[],
    )
    client.force_login(practices.people["admin"])
    assert client.get(reverse("reviews:review_detail", args=[review.pk])).status_code == 200
    assert _reads(review) == [("admin", ["expectations", "history"], "web")]


def test_each_edit_form_records_the_part_it_shows(client, practices):  # noqa: F811
    manager = practices.people["manager"]
    client.force_login(manager)
    review = practices.review
    assert client.get(reverse("reviews:expectations_edit", args=[review.pk])).status_code == 200
    assert client.get(reverse("reviews:evaluation_edit", args=[review.pk])).status_code == 200
    assert _reads(review) == [
        ("manager", ["expectations"], "web"),
        ("manager", ["evaluation"], "web"),
    ]


def test_a_refused_save_that_shows_the_form_again_is_a_read(client, practices):  # noqa: F811
    """The form drawn again carries the saved text (as the values it was drawn with)."""
    client.force_login(practices.people["manager"])
    url = reverse("reviews:expectations_edit", args=[practices.review.pk])
    stale = practices.review.version - 1
    response = client.post(url, {"version": stale, "expectations": "Mine"})
    assert response.status_code == 400
    assert _reads(practices.review) == [("manager", ["expectations"], "web")]


def test_a_successful_save_is_not_a_read(client, practices):  # noqa: F811
    client.force_login(practices.people["manager"])
    url = reverse("reviews:expectations_edit", args=[practices.review.pk])
    response = client.post(url, {"version": practices.review.version, "expectations": "New"})
    assert response.status_code == 302
    assert _reads(practices.review) == []


def test_an_empty_evaluation_form_is_not_a_read(client, practices):  # noqa: F811
    other = practices.people["other_member"]
    review = services.expectations_write(
        cycle=practices.cycle,
        person=other,
        actor=practices.people["manager"],
        text="Ship it.",
        deliverables=[],
    )
    client.force_login(practices.people["manager"])
    assert client.get(reverse("reviews:evaluation_edit", args=[review.pk])).status_code == 200
    assert _reads(review) == []


def test_opening_a_review_in_the_django_admin_is_a_read(client, practices):  # noqa: F811
    client.force_login(practices.people["admin"])
    with time_machine.travel(MOMENT, tick=False):
        response = client.get(_admin_url(practices.review))
    assert response.status_code == 200
    assert "EVAL-SECRET" in response.content.decode()
    access = ReviewAccess.objects.get(review=practices.review)
    assert (access.reader, access.created_at) == (practices.people["admin"], MOMENT)
    assert (access.parts, access.surface) == (EVERYTHING, ReviewSurface.ADMIN)
    # The admin's list of reviews shows no content: not a read.
    assert client.get(_admin_url(practices.review, "changelist")).status_code == 200
    assert ReviewAccess.objects.count() == 1


def test_every_visit_is_a_read_of_its_own(client, practices):  # noqa: F811
    client.force_login(practices.people["manager"])
    url = reverse("reviews:review_detail", args=[practices.review.pk])
    client.get(url)
    client.get(url)
    assert len(_reads(practices.review)) == 2


def test_one_row_per_reader_review_and_surface_in_a_request(practices):  # noqa: F811
    """A second record in the same request adds its parts to the first row."""
    manager, review = practices.people["manager"], practices.review
    request = RequestFactory().get("/")
    first = services.review_access_record(
        review=review, reader=manager, parts=[ReviewPart.HISTORY], request=request
    )
    again = services.review_access_record(
        review=review,
        reader=manager,
        parts=[ReviewPart.EXPECTATIONS, ReviewPart.HISTORY],
        request=request,
    )
    assert again.pk == first.pk
    assert _reads(review) == [("manager", ["expectations", "history"], "web")]
    # Another surface, or another request, is another row.
    services.review_access_record(
        review=review,
        reader=manager,
        parts=[ReviewPart.EXPECTATIONS],
        surface=ReviewSurface.ADMIN,
        request=request,
    )
    services.review_access_record(
        review=review,
        reader=manager,
        parts=[ReviewPart.EXPECTATIONS],
        request=RequestFactory().get("/"),
    )
    assert ReviewAccess.objects.filter(review=review).count() == 3


def test_unknown_parts_are_a_programming_error(practices):  # noqa: F811
    with pytest.raises(ValueError, match="unknown review parts"):
        services.review_access_record(
            review=practices.review, reader=practices.people["manager"], parts=["salary"]
        )
    assert not ReviewAccess.objects.exists()


# --- the person's own reads, and reads of no review ---------------------------------------


def test_the_persons_own_reads_record_nothing(client, practices):  # noqa: F811
    client.force_login(practices.people["person"])
    review = practices.review
    assert client.get(reverse("reviews:review_detail", args=[review.pk])).status_code == 200
    assert client.get(reverse("reviews:review_reads", args=[review.pk])).status_code == 200
    response = client.post(
        reverse("reviews:self_assessment", args=[review.pk]),
        {"version": review.version - 1, "self_assessment": "Stale"},
    )
    assert response.status_code == 400  # the page drawn again, for the person
    assert not ReviewAccess.objects.exists()


def test_the_person_reading_their_review_in_the_admin_records_nothing(client, practices):  # noqa: F811
    """An admin reviewed by a manager reads their own review anywhere unrecorded."""
    from django.contrib.auth.models import Group

    from roles.permissions import ADMINS_GROUP

    person = practices.people["person"]
    person.is_staff = True
    person.save()
    person.groups.add(Group.objects.get(name=ADMINS_GROUP))
    client.force_login(person)
    assert client.get(_admin_url(practices.review)).status_code == 200
    assert not ReviewAccess.objects.exists()


@pytest.mark.parametrize("persona", ["other_manager", "other_member"])
def test_refused_reads_record_nothing(client, practices, persona):  # noqa: F811
    client.force_login(practices.people[persona])
    review = practices.review
    for name in ("review_detail", "expectations_edit", "evaluation_edit", "review_reads"):
        assert client.get(reverse(f"reviews:{name}", args=[review.pk])).status_code == 404
    assert not ReviewAccess.objects.exists()


# --- who sees the log ---------------------------------------------------------------------


def test_the_person_sees_who_read_their_review(client, practices):  # noqa: F811
    review = practices.review
    client.force_login(practices.people["manager"])
    client.get(reverse("reviews:review_detail", args=[review.pk]))
    client.force_login(practices.people["admin"])
    client.get(_admin_url(review))

    client.force_login(practices.people["person"])
    response = client.get(reverse("reviews:review_detail", args=[review.pk]))
    body = response.content.decode()
    assert "Who has read your review" in body
    assert [read.reader for read in response.context["reads"]] == [
        practices.people["admin"],
        practices.people["manager"],
    ]  # newest first
    assert "Mari Kobayashi" in body
    assert "expectations, evaluation, self-assessment, history" in body
    assert "Django admin" in body and "review pages" in body
    assert response.context["more_reads"] is False


def test_the_review_page_shows_the_latest_reads_and_links_to_all(client, practices):  # noqa: F811
    from deliverables.reviews.views import READS_ON_REVIEW_PAGE, READS_PER_PAGE

    review, manager = practices.review, practices.people["manager"]
    for _ in range(READS_PER_PAGE + 5):
        services.review_access_record(review=review, reader=manager, parts=EVERYTHING)
    newest = ReviewAccess.objects.filter(review=review).order_by("-created_at", "-pk")
    client.force_login(practices.people["person"])
    response = client.get(reverse("reviews:review_detail", args=[review.pk]))
    shown = [read.pk for read in response.context["reads"]]
    assert shown == [read.pk for read in newest[:READS_ON_REVIEW_PAGE]]
    reads_url = reverse("reviews:review_reads", args=[review.pk])
    assert response.context["more_reads"] is True and reads_url in response.content.decode()

    first = client.get(reads_url)
    assert [read.pk for read in first.context["page_obj"]] == [
        read.pk for read in newest[:READS_PER_PAGE]
    ]
    second = client.get(reads_url, {"page": 2})
    assert len(second.context["page_obj"]) == 5
    assert client.get(reads_url, {"page": "x" * 1000}).status_code == 200


def test_the_writing_manager_does_not_see_the_log(client, practices):  # noqa: F811
    review = practices.review
    services.review_access_record(review=review, reader=practices.people["admin"], parts=EVERYTHING)
    client.force_login(practices.people["manager"])
    response = client.get(reverse("reviews:review_detail", args=[review.pk]))
    assert "reads" not in response.context
    assert "Who has read" not in response.content.decode()
    assert "Your reads of it are recorded" in response.content.decode()
    assert client.get(reverse("reviews:review_reads", args=[review.pk])).status_code == 404


@pytest.mark.parametrize("persona", ["other_manager", "other_member"])
def test_another_member_cannot_see_the_log(client, practices, persona):  # noqa: F811
    services.review_access_record(
        review=practices.review, reader=practices.people["manager"], parts=EVERYTHING
    )
    client.force_login(practices.people[persona])
    url = reverse("reviews:review_reads", args=[practices.review.pk])
    assert client.get(url).status_code == 404
    assert client.get(_admin_url(ReviewAccess.objects.get(), "changelist")).status_code == 302


def test_admins_see_the_log_on_the_review_page_and_in_the_admin(client, practices):  # noqa: F811
    review = practices.review
    access = services.review_access_record(
        review=review, reader=practices.people["manager"], parts=EVERYTHING
    )
    client.force_login(practices.people["admin"])
    page = client.get(reverse("reviews:review_detail", args=[review.pk]))
    # The admin's own read, just recorded, comes first.
    readers = [(read.reader.username, read.pk) for read in page.context["reads"]]
    assert readers == [("admin", access.pk + 1), ("manager", access.pk)]
    assert "Who has read this review" in page.content.decode()

    changelist = client.get(_admin_url(access, "changelist"))
    assert changelist.status_code == 200
    assert "Mari Kobayashi" in changelist.content.decode()
    assert client.get(_admin_url(access, "changelist"), {"q": "kobayashi"}).status_code == 200
    assert (
        client.get(_admin_url(access, "changelist"), {"surface__exact": "web"}).status_code == 200
    )
    other = services.expectations_write(
        cycle=practices.cycle,
        person=practices.people["other_member"],
        actor=practices.people["manager"],
        text="Ship it.",
        deliverables=[],
    )
    client.get(reverse("reviews:review_detail", args=[other.pk]))
    filtered = client.get(_admin_url(access, "changelist"), {"review": review.pk})
    assert filtered.status_code == 200
    assert {read.review_id for read in filtered.context["cl"].result_list} == {review.pk}
    assert len(filtered.context["cl"].result_list) == 2
    assert client.get(_admin_url(access)).status_code == 200  # view only
    # The review's admin page links to its reads.
    review_page = client.get(_admin_url(review)).content.decode()
    assert f"{_admin_url(access, 'changelist')}?review={review.pk}" in review_page


# --- the log cannot be edited in the admin ------------------------------------------------


@pytest.mark.parametrize("superuser", [False, True])
def test_nobody_can_add_change_or_delete_reads_in_the_admin(client, practices, superuser):  # noqa: F811
    access = services.review_access_record(
        review=practices.review, reader=practices.people["manager"], parts=EVERYTHING
    )
    admin = practices.people["admin"]
    if superuser:
        admin.is_superuser = True
        admin.save()
    client.force_login(admin)
    before = _reads(practices.review)
    assert client.get(_admin_url(access, "add")).status_code == 403
    assert client.post(_admin_url(access, "add"), {"reader_name": "x"}).status_code == 403
    change = client.post(_admin_url(access), {"reader_name": "Someone else", "parts": "[]"})
    assert change.status_code == 403
    assert client.get(_admin_url(access, "delete")).status_code == 403
    assert client.post(_admin_url(access, "delete"), {"post": "yes"}).status_code == 403
    bulk = client.post(
        _admin_url(access, "changelist"),
        {"action": "delete_selected", "_selected_action": [access.pk], "post": "yes"},
    )
    assert bulk.status_code == 200 and "delete_selected" not in bulk.content.decode()
    assert _reads(practices.review) == before
    changelist = client.get(_admin_url(access, "changelist")).content.decode()
    assert _admin_url(access, "add") not in changelist


# --- a reader who leaves ------------------------------------------------------------------


def test_a_read_keeps_the_readers_name_and_anonymising_them_renames_it(client, practices):  # noqa: F811
    reader = UserFactory(username="auditor", first_name="Ada", last_name="Audit")
    review = practices.review
    services.review_access_record(review=review, reader=reader, parts=EVERYTHING)
    access = ReviewAccess.objects.get()
    assert (access.reader_name, access.reader_label) == ("Ada Audit", "Ada Audit")
    # Without the account (SET_NULL), the kept name still says who it was.
    access.reader = None
    assert access.reader_label == "Ada Audit"

    person_anonymise(user=reader, reason="Erasure request")
    access.refresh_from_db()
    assert access.reader_name == f"former-member-{reader.pk}"
    assert access.reader_label == "Former member"
    client.force_login(practices.people["person"])
    body = client.get(reverse("reviews:review_detail", args=[review.pk])).content.decode()
    assert "Former member" in body and "Ada Audit" not in body


# --- query counts -------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _grow(practices, reads: int) -> None:  # noqa: F811
    readers = [UserFactory() for _ in range(3)]
    for n in range(reads):
        with time_machine.travel(MOMENT + timedelta(minutes=n), tick=False):
            services.review_access_record(
                review=practices.review, reader=readers[n % 3], parts=EVERYTHING
            )


@pytest.mark.parametrize("page", ["review_detail", "review_reads"])
def test_the_log_costs_the_same_queries_at_any_size(client, practices, page):  # noqa: F811
    # Queries for the log: one for its page of rows with their readers (the review
    # page takes one more row than it shows, to know whether to link to the rest),
    # plus the count on the paged list. None per row.
    client.force_login(practices.people["person"])
    url = reverse(f"reviews:{page}", args=[practices.review.pk])
    _grow(practices, reads=2)
    small = _queries(client, url)
    _grow(practices, reads=120)
    assert _queries(client, url) == small


def test_the_admin_log_costs_the_same_queries_at_any_size(client, practices):  # noqa: F811
    client.force_login(practices.people["admin"])
    url = reverse("admin:reviews_reviewaccess_changelist")
    _grow(practices, reads=2)
    small = _queries(client, url)
    _grow(practices, reads=120)
    assert _queries(client, url) == small
