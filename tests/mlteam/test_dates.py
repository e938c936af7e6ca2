"""One format per kind of time (a day, a moment, recent activity as "3 hours ago"),
localised (English, Japanese), in the person's own time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from deliverables.models import DeliverableEvent, ReminderPreference
from deliverables.services import comment_add, deliverable_create
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # already the 21st in Tokyo
DUE = date(2026, 11, 27)
JA = {"accept-language": "ja"}


@pytest.fixture
def work():
    manager = manager_user()
    owner = UserFactory(username="aiko")
    project = project_create(name="Churn", managers=[manager], start_date=date(2026, 1, 1))
    membership_add(project=project, user=owner)
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        owner=owner,
        due_date=DUE,
        actor=manager,
    )
    return manager, owner, project, deliverable


def test_the_formats_in_english_and_japanese():
    from mlteam.dates import format_ago, format_day, format_moment

    moment = datetime(2026, 12, 2, 1, 14, tzinfo=UTC)
    with translation.override("en"), timezone.override("UTC"):
        assert format_day(DUE) == "Nov 27, 2026"
        assert format_moment(moment) == "Dec 2, 2026, 01:14"
    with translation.override("ja"), timezone.override("UTC"):
        assert format_day(DUE) == "2026年11月27日"
        assert format_moment(moment) == "2026年12月2日 01:14"
    with translation.override("en"), timezone.override("Asia/Tokyo"):
        assert format_moment(moment) == "Dec 2, 2026, 10:14"
    with translation.override("en"), timezone.override("UTC"):
        html = format_ago(moment - timedelta(hours=3), now=moment)
        assert ">3\xa0hours ago</time>" in html
        assert 'datetime="2026-12-01T22:14:00+00:00"' in html
        assert 'title="Dec 1, 2026, 22:14"' in html
    with translation.override("ja"), timezone.override("UTC"):
        assert "3時間前" in format_ago(moment - timedelta(hours=3), now=moment)


def test_a_moment_asked_again_reads_in_the_zone_and_language_of_each_request():
    # format_moment keeps its words per moment: equal instants in two zones (which
    # compare equal) and two languages must not share them.
    from mlteam.dates import format_moment

    moment = datetime(2026, 12, 2, 1, 14, tzinfo=UTC)
    for _ in range(2):
        with translation.override("en"), timezone.override("Asia/Tokyo"):
            assert format_moment(moment) == "Dec 2, 2026, 10:14"
        with translation.override("en"), timezone.override("UTC"):
            assert format_moment(moment) == "Dec 2, 2026, 01:14"
            assert format_moment(moment.astimezone(timezone.get_current_timezone())) == (
                "Dec 2, 2026, 01:14"
            )
        with translation.override("ja"), timezone.override("UTC"):
            assert format_moment(moment) == "2026年12月2日 01:14"


@time_machine.travel(NOW, tick=False)
def test_a_due_date_reads_the_same_on_the_list_detail_my_work_and_project_page(client, work):
    _manager, owner, project, deliverable = work
    client.force_login(owner)
    pages = [
        reverse("deliverables:list"),
        reverse("deliverables:detail", args=[deliverable.pk]),
        reverse("deliverables:my_work"),
        reverse("roles:project_detail", args=[project.pk]),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "Nov 27, 2026" in page, url
        assert "11/27/2026" not in page and "Nov. 27, 2026" not in page, url
    for url in pages:
        page = client.get(url, headers=JA).content.decode()
        assert "2026年11月27日" in page, url
        assert "2026/11/27" not in page, url


@time_machine.travel(NOW, tick=False)
def test_event_times_show_in_the_persons_time_zone(client, work):
    manager, owner, _project, deliverable = work
    ReminderPreference.objects.create(user=owner, time_zone="Asia/Tokyo")
    comment_add(deliverable=deliverable, actor=manager, body="Looks good.")
    client.force_login(owner)  # signing in keeps the zone for the session
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "Nov 21, 2026, 08:30" in page  # the comment, in Tokyo time
    assert "Nov 20, 2026" not in page
    # Someone in the default zone (UTC) sees the same moment as theirs.
    client.force_login(manager)
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "Nov 20, 2026, 23:30" in page


@time_machine.travel(NOW, tick=False)
def test_saving_the_time_zone_applies_at_once_and_old_sessions_catch_up(client, work):
    manager, owner, _project, deliverable = work
    comment_add(deliverable=deliverable, actor=manager, body="Looks good.")
    url = reverse("deliverables:detail", args=[deliverable.pk])
    client.force_login(owner)
    assert "Nov 20, 2026, 23:30" in client.get(url).content.decode()
    response = client.post(
        reverse("deliverables:reminder_preferences"),
        {"hour": 9, "time_zone": "America/New_York", "working_days": [0], "due_soon_days": 3,
         "language": "en", "version": 1},
    )  # fmt: skip
    assert response.status_code == 302
    assert "Nov 20, 2026, 18:30" in client.get(url).content.decode()
    # A session from before the zone was kept in it reads the preference once.
    session = client.session
    del session["time_zone"]
    session.save()
    assert "Nov 20, 2026, 18:30" in client.get(url).content.decode()
    assert client.session["time_zone"] == "America/New_York"


@time_machine.travel(NOW, tick=False)
def test_recent_activity_says_how_long_ago_with_the_exact_time_beside_it(client, work):
    manager, _owner, project, deliverable = work
    DeliverableEvent.objects.filter(deliverable=deliverable).update(
        created_at=NOW - timedelta(hours=3)
    )
    client.force_login(manager)
    for url in [
        reverse("roles:project_detail", args=[project.pk]),
        reverse("roles:project_activity", args=[project.pk]),
        reverse("deliverables:portfolio_activity"),
        reverse("deliverables:detail", args=[deliverable.pk]),
    ]:
        page = client.get(url).content.decode()
        assert re.search(
            r'<time datetime="2026-11-20T20:30:00\+00:00" title="Nov 20, 2026, 20:30"[^>]*>'
            r"3\xa0hours ago</time>",
            page,
        ), url
        page = client.get(url, headers=JA).content.decode()
        assert "3時間前</time>" in page, url


def test_no_template_formats_dates_by_hand():
    """Every date in a page or an email goes through the date filters (mlteam_dates)."""
    templates = Path(settings.BASE_DIR, "templates")
    offenders = [
        f"{path.relative_to(templates)}: {match}"
        for path in templates.rglob("*.*")
        for match in re.findall(r"\|date(?::[^ }|%]*)?", path.read_text())
        if match != "|date:'Y-m-d'"  # machine-readable values of date inputs
    ]
    assert offenders == []


def test_a_due_date_before_the_start_is_refused_with_a_localised_date(work):
    from django.core.exceptions import ValidationError

    _manager, _owner, _project, deliverable = work
    deliverable.due_date = date(2025, 12, 31)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        deliverable.full_clean()
    assert "Jan 1, 2026" in str(refused.value)


def test_a_zone_that_no_longer_exists_falls_back_to_the_default(client, work):
    _manager, owner, _project, deliverable = work
    client.force_login(owner)
    session = client.session
    session["time_zone"] = "Mars/Olympus_Mons"
    session.save()
    assert client.get(reverse("deliverables:detail", args=[deliverable.pk])).status_code == 200
