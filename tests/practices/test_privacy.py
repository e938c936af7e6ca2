"""Reviews never leak: not into lists, dashboards, exports, activity, counts or
other people's emails. Only the person, the writing manager and admins see them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from deliverables import reminders
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
        reverse("practices:cycle_list"),
        reverse("practices:cycle_detail", args=[p.cycle.pk]),
        reverse("practices:handbook", args=[project.pk]),
        reverse("deliverables:portfolio_dashboard"),
    ]


def _body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.parametrize("persona", ["other_manager", "other_member"])
def test_nothing_of_the_review_shows_anywhere_for_others(client, practices, persona):
    client.force_login(practices.people[persona])
    review_url = reverse("practices:review_detail", args=[practices.review.pk])
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
    body = client.get(reverse("practices:cycle_list")).content.decode()
    assert "1 written" not in body
    detail = client.get(reverse("practices:cycle_detail", args=[practices.cycle.pk]))
    rows = {row.person.username: row.review for row in detail.context["rows"]}
    # Both people are "without expectations" from other_manager: manager's review
    # of `person` is not theirs, and is not hinted at.
    assert rows == {"person": None, "other_member": None}
    assert detail.context["all_reviews"] == []


def test_the_person_writer_and_admin_see_it(client, practices):
    url = reverse("practices:review_detail", args=[practices.review.pk])
    for persona in ("person", "manager", "admin"):
        client.force_login(practices.people[persona])
        body = client.get(url).content.decode()
        assert all(secret in body for secret in SECRETS), persona


def test_admins_list_every_review_in_a_cycle(client, practices):
    client.force_login(practices.people["admin"])
    response = client.get(reverse("practices:cycle_detail", args=[practices.cycle.pk]))
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
