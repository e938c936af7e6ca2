"""Reviews never leak: not into lists, dashboards, exports, activity, counts or
other people's emails. Only the person, the writing manager and admins see them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from deliverables import reminders
from deliverables.models import Deliverable
from deliverables.reviews import selectors as reviews_selectors
from deliverables.reviews import services as reviews_services
from deliverables.services import deliverable_create
from roles.services import membership_add, membership_remove, project_create, project_update
from tests.factories import UserFactory, deliverable_type
from tests.practices.conftest import SECRETS, everyday


def _pages(p) -> list[str]:
    project = p.project
    return [
        reverse("home"),
        reverse("deliverables:my_work"),
        reverse("deliverables:list"),
        reverse("deliverables:list") + f"?project={project.pk}",
        reverse("deliverables:export"),
        reverse("deliverables:detail", args=[p.report.pk]),
        reverse("roles:project_detail", args=[project.pk]),
        reverse("roles:project_team", args=[project.pk]),
        reverse("roles:people_list"),
        reverse("reviews:cycle_list"),
        reverse("reviews:cycle_detail", args=[p.cycle.pk]),
        reverse("practices:handbook", args=[project.pk]),
        reverse("deliverables:portfolio_dashboard"),
        reverse("deliverables:portfolio_activity"),
    ]


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("persona", ["other_manager", "other_member"])
def test_nothing_of_the_review_shows_anywhere_for_others(client, practices, persona):
    client.force_login(practices.people[persona])
    review_url = reverse("reviews:review_detail", args=[practices.review.pk])
    for url in _pages(practices):
        response = client.get(url)
        if response.status_code == 403:  # the dashboard, for members
            continue
        assert response.status_code == 200, url
        body = _body(response)
        for secret in SECRETS:
            assert secret not in body, (url, secret)
        assert review_url not in body, url
        assert "Evaluation shared" not in body, url


def test_other_managers_see_no_counts_of_someone_elses_reviews(client, practices):
    client.force_login(practices.people["other_manager"])
    body = client.get(reverse("reviews:cycle_list")).content.decode()
    assert "1 written" not in body
    detail = client.get(reverse("reviews:cycle_detail", args=[practices.cycle.pk]))
    rows = {row.person.username: row.review for row in detail.context["rows"]}
    # Both people are "without expectations" from other_manager: manager's review
    # of `person` is not theirs, and is not hinted at.
    assert rows == {"person": None, "other_member": None}
    assert detail.context["all_reviews"] == []


def test_the_person_writer_and_admin_see_it(client, practices):
    url = reverse("reviews:review_detail", args=[practices.review.pk])
    for persona in ("person", "manager", "admin"):
        client.force_login(practices.people[persona])
        body = client.get(url).content.decode()
        assert all(secret in body for secret in SECRETS), persona


def test_admins_list_every_review_in_a_cycle(client, practices):
    client.force_login(practices.people["admin"])
    response = client.get(reverse("reviews:cycle_detail", args=[practices.cycle.pk]))
    assert [review.pk for review in response.context["all_reviews"]] == [practices.review.pk]


def test_review_history_is_only_on_the_review(client, practices):
    """The project's activity (deliverable changes, team changes) says nothing of it."""
    client.force_login(practices.people["other_manager"])
    body = client.get(reverse("roles:project_detail", args=[practices.project.pk])).content
    for phrase in (b"expectations", b"evaluation", b"self-assessment"):
        assert phrase not in body.lower()


@pytest.mark.django_db(transaction=False)
def test_digests_mention_only_the_recipients_own_reviews(
    practices, django_capture_on_commit_callbacks
):
    """After the expectations day, each manager hears only about people without
    *their* expectations; no email ever carries review content."""
    for persona in ("manager", "other_manager"):
        everyday(practices.people[persona])
    today = practices.cycle.start_date + timedelta(days=20)
    now = datetime.combine(today, datetime.min.time(), ZoneInfo("UTC")).replace(hour=10)
    sent = []
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=now, send=sent.append)
    for digest_id in sent:
        reminders.digest_send(digest_id=digest_id, now=now)
    by_recipient = {message.to[0]: message for message in mail.outbox}
    manager_mail = by_recipient["manager@example.com"].body
    other_mail = by_recipient["other_manager@example.com"].body
    person_name = practices.people["person"].get_full_name()
    colleague_name = practices.people["other_member"].get_full_name()
    assert "People still without your expectations" in manager_mail
    assert colleague_name in manager_mail and person_name not in manager_mail
    assert person_name in other_mail and colleague_name in other_mail
    for message in mail.outbox:
        text = message.body + message.alternatives[0][0]
        assert not any(secret in text for secret in SECRETS)
    assert "person@example.com" not in by_recipient


# --- linked deliverables follow the deliverable visibility rule -------------------------------


def _leave(practices, username: str) -> None:
    membership = practices.project.memberships.get(user__username=username)
    practices.project.refresh_from_db()
    membership_remove(
        membership=membership, actor=practices.people["manager"], version=practices.project.version
    )


def _elsewhere(practices) -> Deliverable:
    """A deliverable of a project `person` never was on, linked to their review by
    whatever means (the read rule must hold whoever wrote the row)."""
    manager = practices.people["manager"]
    other = project_create(name="Fraud", managers=[manager], actor=manager)
    owner = UserFactory(username="fraud_owner")
    membership_add(project=other, user=owner, actor=manager)
    work = deliverable_create(
        project=other,
        type=deliverable_type("deployed-model"),
        title="Fraud model in production",
        owner=owner,
        due_date=date(2031, 3, 4),
        actor=manager,
    )
    practices.review.deliverables.add(work)
    return work


def _review_page(client, practices, persona: str) -> str:
    client.force_login(practices.people[persona])
    response = client.get(reverse("reviews:review_detail", args=[practices.review.pk]))
    assert response.status_code == 200, persona
    return response.content.decode()


def _linked_section(page: str) -> str:
    """The review's expectations card, where linked deliverables are listed."""
    start = page.index("Linked deliverables") if "Linked deliverables" in page else 0
    return page[start : page.index('id="history-heading"')]


def test_a_person_who_left_the_project_no_longer_sees_its_work_on_their_review(client, practices):
    report = practices.report
    _leave(practices, "person")
    client.force_login(practices.people["person"])
    assert client.get(reverse("deliverables:detail", args=[report.pk])).status_code == 404
    page = _linked_section(_review_page(client, practices, "person"))
    assert report.title not in page
    assert reverse("deliverables:detail", args=[report.pk]) not in page
    assert practices.project.name not in page
    # The writing manager and admins still may see the project, so they still see it.
    for persona in ("manager", "admin"):
        page = _linked_section(_review_page(client, practices, persona))
        assert report.title in page, persona
        assert reverse("deliverables:detail", args=[report.pk]) in page, persona


def test_a_person_never_on_the_project_does_not_see_its_work_on_their_review(client, practices):
    work = _elsewhere(practices)
    page = _linked_section(_review_page(client, practices, "person"))
    assert work.title not in page
    assert "Fraud" not in page
    assert practices.report.title in page  # their own project's work still shows
    for persona in ("manager", "admin"):
        assert work.title in _linked_section(_review_page(client, practices, persona)), persona


def test_a_manager_who_no_longer_manages_the_project_sees_only_what_they_may_see(client, practices):
    """The writer keeps the review, but a linked deliverable of a project they no
    longer see is gone from it for them: not on the review, not in the edit form."""
    manager = practices.people["manager"]
    project = practices.project
    project.refresh_from_db()
    project_update(
        project=project,
        actor=practices.people["other_manager"],
        version=project.version,
        name=project.name,
        business_problem=project.business_problem,
        status=project.status,
        managers=[practices.people["other_manager"]],
    )
    assert not Deliverable.objects.visible_to(manager).filter(pk=practices.report.pk).exists()
    assert practices.report.title not in _linked_section(_review_page(client, practices, "manager"))
    edit = client.get(reverse("reviews:expectations_edit", args=[practices.review.pk]))
    assert edit.status_code == 200
    assert practices.report.title not in edit.content.decode()
    # The person, still on the team, keeps seeing it.
    assert practices.report.title in _linked_section(_review_page(client, practices, "person"))


def test_saving_expectations_keeps_links_the_manager_can_no_longer_see(client, practices):
    work = _elsewhere(practices)
    manager = practices.people["manager"]
    other = work.project
    other.refresh_from_db()
    project_update(
        project=other,
        actor=practices.people["admin"],
        version=other.version,
        name=other.name,
        business_problem=other.business_problem,
        status=other.status,
        managers=[practices.people["admin"]],
    )
    review = practices.review
    review.refresh_from_db()
    changed = reviews_services.expectations_update(
        review=review,
        actor=manager,
        version=review.version,
        text="New text",
        deliverables=[practices.report],
    )
    assert changed
    assert set(review.deliverables.values_list("pk", flat=True)) == {practices.report.pk, work.pk}


def test_review_history_names_only_work_the_person_may_see(client, practices):
    """The history is read by the person too: a later change of the expectations
    does not write the title of work they may not see into it."""
    work = _elsewhere(practices)
    review = practices.review
    review.refresh_from_db()
    reviews_services.expectations_update(
        review=review,
        actor=practices.people["manager"],
        version=review.version,
        text="Changed expectations",
        deliverables=[practices.report, work],
    )
    page = _review_page(client, practices, "person")
    history = page[page.index('id="history-heading"') :]
    assert "Changed expectations" in history
    assert practices.report.title in history
    assert work.title not in history


def test_linked_deliverables_on_a_review_are_read_through_the_visibility_rule(practices):
    work = _elsewhere(practices)
    _leave(practices, "person")
    review = practices.review
    assert (
        reviews_selectors.review_deliverables(
            review=review, viewer=practices.people["person"], today=date.today()
        )
        == []
    )
    assert {
        d.pk
        for d in reviews_selectors.review_deliverables(
            review=review, viewer=practices.people["manager"], today=date.today()
        )
    } == {practices.report.pk, work.pk}
