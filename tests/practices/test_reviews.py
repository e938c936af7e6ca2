"""Expectations, evaluations, self-assessment and acknowledgements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from deliverables.models import RATING_FIELDS, Review, ReviewEventKind
from deliverables.practices import services


def _review(p) -> Review:
    return Review.objects.get(pk=p.review.pk)


def test_manager_writes_expectations_with_linked_deliverables(client, practices):
    other = practices.people["other_member"]
    client.force_login(practices.people["manager"])
    url = reverse("practices:expectations_create", args=[practices.cycle.pk, other.pk])
    assert client.post(url, {"expectations": "   "}).status_code == 400
    response = client.post(
        url, {"expectations": "Ship the **pipeline**.", "deliverables": [practices.handbook.pk]}
    )
    review = Review.objects.get(person=other)
    assert response.status_code == 302 and response["Location"].endswith(f"/{review.pk}/")
    assert list(review.deliverables.all()) == [practices.handbook]
    assert review.manager == practices.people["manager"]
    # A second visit goes to the existing review instead of a second one.
    assert client.get(url)["Location"] == reverse("practices:review_detail", args=[review.pk])


def test_deliverables_of_other_people_cannot_be_linked(client, practices):
    other = practices.people["other_member"]
    client.force_login(practices.people["manager"])
    url = reverse("practices:expectations_create", args=[practices.cycle.pk, other.pk])
    response = client.post(url, {"expectations": "x", "deliverables": [practices.report.pk]})
    assert response.status_code == 400
    assert not Review.objects.filter(person=other).exists()


def test_person_acknowledges_expectations_and_a_change_asks_again(client, practices):
    person, manager = practices.people["person"], practices.people["manager"]
    client.force_login(person)
    ack = reverse("practices:expectations_acknowledge", args=[practices.review.pk])
    assert client.post(ack, {"version": _review(practices).version}).status_code == 302
    assert _review(practices).expectations_acknowledged_at is not None
    client.force_login(manager)
    edit = reverse("practices:expectations_edit", args=[practices.review.pk])
    response = client.post(
        edit, {"version": _review(practices).version, "expectations": "New, sharper expectations"}
    )
    assert response.status_code == 302
    review = _review(practices)
    assert review.expectations_acknowledged_at is None
    kinds = list(review.events.values_list("kind", flat=True))
    assert kinds[:2] == [
        ReviewEventKind.EXPECTATIONS_CHANGED,
        ReviewEventKind.EXPECTATIONS_ACKNOWLEDGED,
    ]


def test_stale_expectations_edit_is_refused_and_input_kept(client, practices):
    client.force_login(practices.people["manager"])
    edit = reverse("practices:expectations_edit", args=[practices.review.pk])
    stale = _review(practices).version
    services.expectations_acknowledge(
        review=_review(practices), actor=practices.people["person"], version=stale
    )
    response = client.post(edit, {"version": stale, "expectations": "My stale change"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "changed while you were looking" in body and "My stale change" in body
    assert _review(practices).expectations != "My stale change"
    # Resubmitting the refreshed form works.
    fresh = response.context["form"].data["version"]
    assert client.post(edit, {"version": fresh, "expectations": "My change"}).status_code == 302


def test_draft_evaluation_is_hidden_from_the_person(client, practices):
    other = practices.people["other_member"]
    manager = practices.people["manager"]
    review = services.expectations_write(
        cycle=practices.cycle, person=other, actor=manager, text="Ship it.", deliverables=[]
    )
    client.force_login(manager)
    response = client.post(
        reverse("practices:evaluation_edit", args=[review.pk]),
        {"version": review.version, "quality_code": 3, "evaluation_comment": "DRAFT-NOTE"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.evaluation_shared_at is None
    client.force_login(other)
    body = client.get(reverse("practices:review_detail", args=[review.pk])).content.decode()
    assert "DRAFT-NOTE" not in body
    ack = client.post(
        reverse("practices:evaluation_acknowledge", args=[review.pk]), {"version": review.version}
    )
    assert ack.status_code == 302
    review.refresh_from_db()
    assert review.evaluation_acknowledged_at is None


def test_sharing_needs_every_rating_and_a_comment(client, practices):
    other = practices.people["other_member"]
    manager = practices.people["manager"]
    review = services.expectations_write(
        cycle=practices.cycle, person=other, actor=manager, text="Ship it.", deliverables=[]
    )
    client.force_login(manager)
    response = client.post(
        reverse("practices:evaluation_edit", args=[review.pk]),
        {"version": review.version, "quality_code": 3, "evaluation_comment": "ok", "share": "1"},
    )
    assert response.status_code == 400
    assert "Give every rating" in response.content.decode()
    review.refresh_from_db()
    assert review.evaluation_shared_at is None and review.quality_code is None


def test_the_form_says_the_outcome_is_not_rated(client, practices):
    client.force_login(practices.people["manager"])
    body = client.get(reverse("practices:evaluation_edit", args=[practices.review.pk])).content
    text = body.decode()
    assert "Whether the project succeeded is not part of the rating" in text
    assert "Project outcome (not rated)" in text


def test_outcome_does_not_change_the_ratings(practices):
    review = _review(practices)
    services.evaluation_save(
        review=review,
        actor=practices.people["manager"],
        version=review.version,
        ratings={name: getattr(review, name) for name in RATING_FIELDS},
        comment=review.evaluation_comment,
        project_outcome="The project was cancelled.",
        share=True,
    )
    review = _review(practices)
    assert [getattr(review, name) for name in RATING_FIELDS] == [4, 4, 4, 4]
    assert review.project_outcome == "The project was cancelled."


def test_person_acknowledges_evaluation_and_self_assessment_closes(client, practices):
    person = practices.people["person"]
    client.force_login(person)
    ack = reverse("practices:evaluation_acknowledge", args=[practices.review.pk])
    assert client.post(ack, {"version": _review(practices).version}).status_code == 302
    review = _review(practices)
    assert review.evaluation_acknowledged_at is not None
    response = client.post(
        reverse("practices:self_assessment", args=[review.pk]),
        {"version": review.version, "self_assessment": "Too late"},
    )
    assert response.status_code == 400
    assert _review(practices).self_assessment != "Too late"


def test_changing_a_shared_evaluation_asks_for_a_new_acknowledgement(practices):
    review = _review(practices)
    services.evaluation_acknowledge(
        review=review, actor=practices.people["person"], version=review.version
    )
    review = _review(practices)
    services.evaluation_save(
        review=review,
        actor=practices.people["manager"],
        version=review.version,
        ratings=dict.fromkeys(RATING_FIELDS, 5),
        comment=review.evaluation_comment,
        project_outcome=review.project_outcome,
        share=True,
    )
    review = _review(practices)
    assert review.evaluation_acknowledged_at is None
    assert review.events.first().kind == ReviewEventKind.EVALUATION_CHANGED


def test_history_shows_on_the_review(client, practices):
    client.force_login(practices.people["person"])
    response = client.get(reverse("practices:review_detail", args=[practices.review.pk]))
    kinds = [event.kind for event in response.context["history"]]
    assert kinds == [
        ReviewEventKind.EVALUATION_SHARED,
        ReviewEventKind.SELF_ASSESSMENT,
        ReviewEventKind.EXPECTATIONS_WRITTEN,
    ]


def test_cycle_cannot_end_before_it_starts(client, practices):
    client.force_login(practices.people["manager"])
    response = client.post(
        reverse("practices:cycle_create"),
        {"name": "Bad", "start_date": "2027-02-01", "end_date": "2027-01-01",
         "expectations_due_days": 14},
    )  # fmt: skip
    assert response.status_code == 400
    assert "The cycle cannot end before it starts." in response.content.decode()


@pytest.mark.parametrize("persona", ["person", "other_member"])
def test_members_cannot_create_cycles(client, practices, persona):
    client.force_login(practices.people[persona])
    start = practices.cycle.start_date
    response = client.post(
        reverse("practices:cycle_create"),
        {"name": "Mine", "start_date": start, "end_date": start + timedelta(days=9)},
    )
    assert response.status_code == 403


def test_a_demoted_manager_keeps_reading_but_cannot_change(client, practices):
    from django.contrib.auth.models import Group

    manager = practices.people["manager"]
    manager.groups.remove(Group.objects.get(name="Managers"))
    client.force_login(manager)
    assert (
        client.get(reverse("practices:review_detail", args=[practices.review.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("practices:evaluation_edit", args=[practices.review.pk])).status_code
        == 403
    )
