"""Expectations, evaluations, self-assessment and acknowledgements."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from deliverables.reviews import services
from deliverables.reviews.models import RATING_FIELDS, Review, ReviewEventKind
from deliverables.reviews.selectors import ReviewWaiting, reviews_waiting_for
from tests.practices.conftest import EVALUATION, EXPECTATIONS, OUTCOME


def _review(p) -> Review:
    return Review.objects.get(pk=p.review.pk)


def test_manager_writes_expectations_with_linked_deliverables(client, practices):
    other = practices.people["other_member"]
    client.force_login(practices.people["manager"])
    url = reverse("reviews:expectations_create", args=[practices.cycle.pk, other.pk])
    assert client.post(url, {"expectations": "   "}).status_code == 400
    response = client.post(
        url, {"expectations": "Ship the **pipeline**.", "deliverables": [practices.handbook.pk]}
    )
    review = Review.objects.get(person=other)
    assert response.status_code == 302 and response["Location"].endswith(f"/{review.pk}/")
    assert list(review.deliverables.all()) == [practices.handbook]
    assert review.manager == practices.people["manager"]
    # A second visit goes to the existing review instead of a second one.
    assert client.get(url)["Location"] == reverse("reviews:review_detail", args=[review.pk])


def test_deliverables_of_other_people_cannot_be_linked(client, practices):
    other = practices.people["other_member"]
    client.force_login(practices.people["manager"])
    url = reverse("reviews:expectations_create", args=[practices.cycle.pk, other.pk])
    response = client.post(url, {"expectations": "x", "deliverables": [practices.report.pk]})
    assert response.status_code == 400
    assert not Review.objects.filter(person=other).exists()


def test_person_acknowledges_expectations_and_a_change_asks_again(client, practices):
    person, manager = practices.people["person"], practices.people["manager"]
    client.force_login(person)
    ack = reverse("reviews:expectations_acknowledge", args=[practices.review.pk])
    assert client.post(ack, {"version": _review(practices).version}).status_code == 302
    assert _review(practices).expectations_acknowledged_at is not None
    client.force_login(manager)
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
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
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
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
        reverse("reviews:evaluation_edit", args=[review.pk]),
        {"version": review.version, "quality_code": 3, "evaluation_comment": "DRAFT-NOTE"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.evaluation_shared_at is None
    client.force_login(other)
    body = client.get(reverse("reviews:review_detail", args=[review.pk])).content.decode()
    assert "DRAFT-NOTE" not in body
    ack = client.post(
        reverse("reviews:evaluation_acknowledge", args=[review.pk]), {"version": review.version}
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
        reverse("reviews:evaluation_edit", args=[review.pk]),
        {"version": review.version, "quality_code": 3, "evaluation_comment": "ok", "share": "1"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert body.count("Rate this before sharing.") == 3  # the three missing ratings
    review.refresh_from_db()
    assert review.evaluation_shared_at is None and review.quality_code is None


def test_the_form_says_the_outcome_is_not_rated(client, practices):
    client.force_login(practices.people["manager"])
    body = client.get(reverse("reviews:evaluation_edit", args=[practices.review.pk])).content
    text = body.decode()
    assert "Whether the project succeeded is not part of the rating" in text
    assert "Project outcome (not rated)" in text


def test_outcome_does_not_change_the_ratings(practices):
    review = _review(practices)
    services.evaluation_save(
        review=review,
        actor=practices.people["manager"],
        version=review.evaluation_version,
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
    ack = reverse("reviews:evaluation_acknowledge", args=[practices.review.pk])
    assert client.post(ack, {"version": _review(practices).version}).status_code == 302
    review = _review(practices)
    assert review.evaluation_acknowledged_at is not None
    response = client.post(
        reverse("reviews:self_assessment", args=[review.pk]),
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
        version=review.evaluation_version,
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
    response = client.get(reverse("reviews:review_detail", args=[practices.review.pk]))
    kinds = [event.kind for event in response.context["history"]]
    assert kinds == [
        ReviewEventKind.EVALUATION_SHARED,
        ReviewEventKind.SELF_ASSESSMENT,
        ReviewEventKind.EXPECTATIONS_WRITTEN,
    ]


def test_cycle_cannot_end_before_it_starts(client, practices):
    client.force_login(practices.people["manager"])
    response = client.post(
        reverse("reviews:cycle_create"),
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
        reverse("reviews:cycle_create"),
        {"name": "Mine", "start_date": start, "end_date": start + timedelta(days=9)},
    )
    assert response.status_code == 403


def test_a_demoted_manager_keeps_reading_but_cannot_change(client, practices):
    from django.contrib.auth.models import Group

    manager = practices.people["manager"]
    manager.groups.remove(Group.objects.get(name="Managers"))
    client.force_login(manager)
    assert (
        client.get(reverse("reviews:review_detail", args=[practices.review.pk])).status_code == 200
    )
    assert (
        client.get(reverse("reviews:evaluation_edit", args=[practices.review.pk])).status_code
        == 403
    )


def test_a_draft_does_not_disturb_the_person(client, practices):
    """Saving a draft neither shows in the person's history nor makes their open
    acknowledgement form stale."""
    other = practices.people["other_member"]
    manager = practices.people["manager"]
    review = services.expectations_write(
        cycle=practices.cycle, person=other, actor=manager, text="Ship it.", deliverables=[]
    )
    seen_version = review.version  # the person opens the review
    services.evaluation_save(
        review=review,
        actor=manager,
        version=review.evaluation_version,
        ratings=dict.fromkeys(RATING_FIELDS, 3),
        comment="Draft thoughts",
        project_outcome="",
        share=False,
    )
    client.force_login(other)
    response = client.post(
        reverse("reviews:expectations_acknowledge", args=[review.pk]), {"version": seen_version}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.expectations_acknowledged_at is not None
    page = client.get(reverse("reviews:review_detail", args=[review.pk]))
    kinds = [event.kind for event in page.context["history"]]
    assert ReviewEventKind.EVALUATION_SAVED not in kinds
    assert "Draft thoughts" not in page.content.decode()
    client.force_login(manager)
    page = client.get(reverse("reviews:review_detail", args=[review.pk]))
    assert ReviewEventKind.EVALUATION_SAVED in [event.kind for event in page.context["history"]]


def test_history_keeps_what_the_expectations_said_before(client, practices):
    client.force_login(practices.people["manager"])
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
    response = client.post(
        edit, {"version": _review(practices).version, "expectations": "Rewritten at the end"}
    )
    assert response.status_code == 302
    event = _review(practices).events.first()
    assert event.kind == ReviewEventKind.EXPECTATIONS_CHANGED
    # Kept as values and worded in the reader's language.
    assert event.payload == {
        "before": {
            "text": EXPECTATIONS,
            "linked": [
                {"type": "Analysis report with visualisations", "title": "Churn drivers report"}
            ],
        },
        "after": {"text": "Rewritten at the end", "linked": []},
    }
    assert event.display_before == (
        f"{EXPECTATIONS}\n\n"
        "Linked deliverables: Analysis report with visualisations: Churn drivers report"
    )
    assert event.display_after == "Rewritten at the end"
    with translation.override("ja"):
        assert event.display_before == (
            f"{EXPECTATIONS}\n\n関連する成果物: 可視化を含む分析レポート：Churn drivers report"
        )
    client.force_login(practices.people["person"])
    body = client.get(reverse("reviews:review_detail", args=[practices.review.pk])).content
    assert "What changed" in body.decode() and "EXPECT-SECRET" in body.decode()


def test_history_keeps_the_shared_evaluation_before_a_change(practices):
    review = _review(practices)
    services.evaluation_save(
        review=review,
        actor=practices.people["manager"],
        version=review.evaluation_version,
        ratings=dict.fromkeys(RATING_FIELDS, 2),
        comment="Harsher now",
        project_outcome="",
        share=True,
    )
    event = _review(practices).events.first()
    assert event.kind == ReviewEventKind.EVALUATION_CHANGED
    assert event.payload["before"] == {
        "ratings": dict.fromkeys(RATING_FIELDS, 4),
        "comment": EVALUATION,
        "outcome": OUTCOME,
    }
    assert event.display_before == (
        "quality of code: 4\nquality of documentation: 4\ncollaboration: 4\n"
        f"meeting the agreed expectations: 4\n\n{EVALUATION}\n\n"
        f"Project outcome (context only): {OUTCOME}"
    )
    assert event.display_after == (
        "quality of code: 2\nquality of documentation: 2\ncollaboration: 2\n"
        "meeting the agreed expectations: 2\n\nHarsher now"
    )
    # Whoever wrote it, a Japanese reader reads the labels in Japanese.
    with translation.override("ja"):
        assert event.display_before == (
            "コードの品質: 4\nドキュメントの品質: 4\n協働: 4\n"
            f"合意した期待事項の達成度: 4\n\n{EVALUATION}\n\n"
            f"プロジェクトの結果（参考情報のみ）: {OUTCOME}"
        )


def test_history_is_worded_in_the_reader_s_language_not_the_writer_s(client, practices):
    """A manager writing in Japanese, a person reading in English: the page shows
    the labels in English, as if the manager had written in English."""
    review = _review(practices)
    with translation.override("ja"):
        services.evaluation_save(
            review=review,
            actor=practices.people["manager"],
            version=review.evaluation_version,
            ratings={**dict.fromkeys(RATING_FIELDS, 3), "expectations_met": None},
            comment="Steady",
            project_outcome="",
            share=False,
        )
    client.force_login(practices.people["manager"])
    body = client.get(
        reverse("reviews:review_detail", args=[review.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "quality of code: 4<br>" in body  # the shared evaluation before this change
    event = _review(practices).events.first()
    assert event.display_after == (
        "quality of code: 3\nquality of documentation: 3\ncollaboration: 3\n"
        "meeting the agreed expectations: -\n\nSteady"
    )
    assert "コード" not in body


def test_editing_expectations_needs_the_version(client, practices):
    client.force_login(practices.people["manager"])
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
    response = client.post(edit, {"expectations": "No version"})
    assert response.status_code == 400
    assert _review(practices).expectations != "No version"


def test_links_stay_when_their_project_is_archived(client, practices):
    from roles.services import project_archive

    project_archive(project=practices.project, actor=practices.people["manager"], version=None)
    client.force_login(practices.people["manager"])
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
    form = client.get(edit).context["form"]
    assert practices.report in form.fields["deliverables"].queryset
    response = client.post(
        edit,
        {
            "version": _review(practices).version,
            "expectations": "Fixed a typo",
            "deliverables": [practices.report.pk],
        },
    )
    assert response.status_code == 302
    assert list(_review(practices).deliverables.all()) == [practices.report]


@pytest.mark.parametrize("bad", ["9" * 30, "-1", "abc"])
def test_bad_deliverable_ids_are_a_clear_error(client, practices, bad):
    client.force_login(practices.people["manager"])
    edit = reverse("reviews:expectations_edit", args=[practices.review.pk])
    response = client.post(
        edit, {"version": _review(practices).version, "expectations": "x", "deliverables": [bad]}
    )
    assert response.status_code == 400
    assert "is not a valid value" in response.content.decode()


def test_cycle_dates_far_away_are_refused(client, practices):
    client.force_login(practices.people["manager"])
    response = client.post(
        reverse("reviews:cycle_create"),
        {"name": "Far", "start_date": "9999-12-01", "end_date": "9999-12-31",
         "expectations_due_days": 365},
    )  # fmt: skip
    assert response.status_code == 400
    assert "between the years 2000 and 2100" in response.content.decode()


def test_home_asks_the_person_and_nobody_else_to_read(client, practices):
    client.force_login(practices.people["person"])
    body = client.get(reverse("home")).content.decode()
    assert "Waiting for you to read" in body and "Your evaluation for H2" in body
    for persona in ("manager", "other_manager", "other_member", "admin"):
        client.force_login(practices.people[persona])
        assert "Waiting for you to read" not in client.get(reverse("home")).content.decode()
    review = _review(practices)
    services.expectations_acknowledge(
        review=review, actor=practices.people["person"], version=review.version
    )
    review = _review(practices)
    services.evaluation_acknowledge(
        review=review, actor=practices.people["person"], version=review.version
    )
    client.force_login(practices.people["person"])
    assert "Waiting for you to read" not in client.get(reverse("home")).content.decode()


def test_the_reviews_waiting_are_plain_values_saying_what_waits(practices):
    person = practices.people["person"]
    today = timezone.localdate()
    later = services.cycle_create(
        actor=practices.people["manager"],
        name="H3",
        start_date=today,
        end_date=today + timedelta(days=60),
        expectations_due_days=14,
    )
    expectations = services.expectations_write(
        cycle=later,
        person=person,
        actor=practices.people["other_manager"],
        text="Ship",
        deliverables=[],
    )
    assert reviews_waiting_for(user=person) == [
        ReviewWaiting(
            pk=practices.review.pk,
            cycle_name="H2",
            manager_name="Mari Kobayashi",
            what=ReviewWaiting.EVALUATION,  # shared, waiting for acknowledgement
        ),
        ReviewWaiting(
            pk=expectations.pk,
            cycle_name="H3",
            manager_name="Otto Manner",
            what=ReviewWaiting.EXPECTATIONS,
        ),
    ]
    assert reviews_waiting_for(user=practices.people["manager"]) == []
