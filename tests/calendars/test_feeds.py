"""Calendar feeds (issue 18, item 4): a secret address per person or project,
open work with due dates, review cycle dates without review content, stable
UIDs, gone when done, cancelled, revoked, replaced or no longer visible."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from deliverables.models import DeliverableStatus, ReminderPreference
from deliverables.reviews import services as review_services
from mlteam.calendars import services
from mlteam.calendars.models import CalendarFeed
from roles import services as roles_services
from roles.models import Membership
from tests.factories import DeliverableFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = re.compile(r'value="https?://[^"]*(/calendar/[^"]+\.ics)"')


@pytest.fixture
def team(manager, member):
    project = ProjectFactory(name="Churn", managers=[manager])
    MembershipFactory(project=project, user=member)
    MembershipFactory(project=project, user=manager)
    return project


def _issue(client, user, project=None) -> str:
    """Issues a feed through the settings page, as a person does; the feed's path."""
    client.force_login(user)
    response = client.post(
        reverse("calendars:settings"), {"project": project.pk if project else ""}
    )
    assert response.status_code == 201, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    return ADDRESS.search(response.content.decode()).group(1)


def _events(client, path) -> dict[str, dict]:
    client.logout()  # calendar programs send no cookies
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert not calendar.errors
    return {
        str(event["uid"]): {
            "summary": str(event["summary"]),
            "description": str(event["description"]),
            "start": event.decoded("dtstart"),
            "url": str(event["url"]),
        }
        for event in calendar.walk("VEVENT")
    }


def test_own_feed_lists_open_owned_work_with_due_dates(client, team, member, manager):
    today = timezone.localdate()
    mine = DeliverableFactory(project=team, owner=member, due_date=today + timedelta(days=3))
    DeliverableFactory(project=team, owner=member, due_date=None)  # no date: nothing to show
    DeliverableFactory(project=team, owner=member, due_date=today, status=DeliverableStatus.DONE)
    DeliverableFactory(project=team, owner=manager, due_date=today)  # someone else's
    events = _events(client, _issue(client, member))
    assert [uid.split("@")[0] for uid in events] == [f"deliverable-{mine.pk}"]
    (event,) = events.values()
    assert event["start"] == mine.due_date
    assert mine.title in event["summary"] and "Churn" in event["summary"]
    assert "Not started" in event["description"]
    assert event["url"].endswith(reverse("deliverables:detail", args=[mine.pk]))


def test_project_feed_lists_the_team_work_and_drops_done_and_cancelled(
    client, team, member, manager
):
    today = timezone.localdate()
    a = DeliverableFactory(project=team, owner=member, due_date=today)
    b = DeliverableFactory(project=team, owner=manager, due_date=today + timedelta(days=9))
    other = DeliverableFactory(due_date=today)  # another project
    path = _issue(client, member, team)
    assert {uid.split("@")[0] for uid in _events(client, path)} == {
        f"deliverable-{a.pk}",
        f"deliverable-{b.pk}",
    }
    b.status = DeliverableStatus.CANCELLED
    b.cancelled_reason = "Not needed"
    b.save()
    a.status = DeliverableStatus.DONE
    a.save()
    assert _events(client, path) == {}
    assert other.pk  # never listed


def test_uids_stay_the_same_when_the_address_is_replaced(client, team, member):
    DeliverableFactory(project=team, owner=member, due_date=timezone.localdate())
    first = _issue(client, member)
    before = set(_events(client, first))
    second = _issue(client, member)
    assert first != second
    assert client.get(first).status_code == 404  # the old address stops working
    assert set(_events(client, second)) == before
    assert CalendarFeed.objects.filter(person=member).count() == 1


def test_turning_a_feed_off_asks_first_then_the_address_is_gone(client, team, member):
    path = _issue(client, member)
    feed = CalendarFeed.objects.get(person=member)
    client.force_login(member)
    page = client.get(reverse("calendars:revoke", args=[feed.pk]))
    assert page.status_code == 200 and "Turn off" in page.content.decode()
    assert client.get(path).status_code == 200  # asking changed nothing
    response = client.post(reverse("calendars:revoke", args=[feed.pk]))
    assert response.status_code == 302
    client.logout()
    assert client.get(path).status_code == 404


def test_someone_elses_feed_cannot_be_turned_off(client, team, member, manager):
    _issue(client, member)
    feed = CalendarFeed.objects.get(person=member)
    client.force_login(manager)
    assert client.get(reverse("calendars:revoke", args=[feed.pk])).status_code == 404
    assert client.post(reverse("calendars:revoke", args=[feed.pk])).status_code == 404
    assert CalendarFeed.objects.filter(pk=feed.pk).exists()


def test_settings_need_sign_in_and_unknown_addresses_are_not_found(client):
    response = client.get(reverse("calendars:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/calendar/not-a-real-secret.ics").status_code == 404


def test_losing_access_to_a_project_removes_its_work_from_every_feed(client, team, member, manager):
    DeliverableFactory(project=team, owner=member, due_date=timezone.localdate())
    own = _issue(client, member)
    project_feed = _issue(client, member, team)
    assert _events(client, own) and _events(client, project_feed)
    membership = Membership.objects.get(project=team, user=member)
    roles_services.membership_remove(membership=membership, actor=manager, version=None)
    assert _events(client, own) == {}
    assert _events(client, project_feed) == {}


def test_a_project_the_reader_cannot_see_is_refused(client, member):
    hidden = ProjectFactory(name="Secret")
    client.force_login(member)
    response = client.post(reverse("calendars:settings"), {"project": hidden.pk})
    assert response.status_code == 422
    assert not CalendarFeed.objects.exists()
    with pytest.raises(PermissionDenied):  # the service refuses too
        services.feed_issue(person=member, project=hidden)


def test_a_deactivated_persons_feed_stops(client, team, member):
    path = _issue(client, member)
    member.is_active = False
    member.save()
    assert client.get(path).status_code == 404


def test_review_cycle_dates_without_review_content(client, team, member, manager):
    today = timezone.localdate()
    cycle = review_services.cycle_create(
        actor=manager,
        name="H1 reviews",
        start_date=today - timedelta(days=5),
        end_date=today + timedelta(days=60),
        expectations_due_days=14,
    )
    review_services.expectations_write(
        cycle=cycle, person=member, actor=manager, text="SECRET-EXPECTATION", deliverables=[]
    )
    outsider = UserFactory(username="outsider")
    for person in (member, manager):
        path = _issue(client, person)
        client.logout()
        body = client.get(path).content.decode()
        events = _events(client, path)
        assert {uid.split("@")[0] for uid in events} == {
            f"review-cycle-{cycle.pk}-expectations",
            f"review-cycle-{cycle.pk}-end",
        }
        assert all("H1 reviews" in event["summary"] for event in events.values())
        assert "SECRET-EXPECTATION" not in body
    assert _events(client, _issue(client, outsider)) == {}


def test_feed_in_the_persons_language(client, team, member):
    ReminderPreference.objects.create(user=member, language="ja")
    DeliverableFactory(project=team, owner=member, due_date=timezone.localdate())
    (event,) = _events(client, _issue(client, member)).values()
    assert "期限" in event["summary"]


def test_queries_do_not_grow_with_the_feed(client, team, member, manager):
    today = timezone.localdate()
    DeliverableFactory(project=team, owner=member, due_date=today)
    path = _issue(client, member, team)
    client.logout()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    few = queries()
    for day in range(25):
        DeliverableFactory(
            project=team,
            owner=UserFactory() if day % 2 else member,
            due_date=today + timedelta(days=day),
        )
    for user in {d.owner for d in team.deliverables.all() if d.owner}:
        Membership.objects.get_or_create(project=team, user=user)
    assert queries() == few


def test_dates_are_all_day_events(client, team, member):
    due = date(2030, 1, 15)
    DeliverableFactory(project=team, owner=member, due_date=due)
    (event,) = _events(client, _issue(client, member)).values()
    assert event["start"] == due and not hasattr(event["start"], "hour")


def test_admins_turn_feeds_off_in_the_admin_without_seeing_secrets(client, team, member, admin):
    path = _issue(client, member)
    feed = CalendarFeed.objects.get(person=member)
    client.force_login(admin)
    listing = client.get(reverse("admin:calendars_calendarfeed_changelist"))
    assert listing.status_code == 200
    assert feed.digest not in listing.content.decode()
    response = client.post(
        reverse("admin:calendars_calendarfeed_changelist"),
        {"action": "turn_off_selected", "_selected_action": [feed.pk]},
    )
    assert response.status_code == 302
    client.logout()
    assert client.get(path).status_code == 404


def test_the_project_page_leads_to_its_feed_chosen(client, team, member):
    client.force_login(member)
    page = client.get(reverse("roles:project_detail", args=[team.pk])).content.decode()
    settings_url = f"{reverse('calendars:settings')}?project={team.pk}"
    assert settings_url in page
    form = client.get(settings_url).content.decode()
    assert re.search(rf'<option value="{team.pk}" selected>', form)


@pytest.mark.parametrize("how", ["password", "deactivation"])
def test_a_new_password_or_deactivation_ends_every_feed_address(client, team, member, how):
    """As API tokens: an address must not outlive the credentials it was issued with
    (reactivating the person does not bring it back)."""
    from mlteam.accounts.services import RevokeReason, password_set
    from mlteam.services import people_deactivate

    path = _issue(client, member)
    if how == "password":
        password_set(user=member, password="a-new-long-password-1", reason=RevokeReason.CHANGED)
    else:
        people_deactivate(people=[member], actor=None)
        member.is_active = True
        member.save()
    assert client.get(path).status_code == 404
    assert not CalendarFeed.objects.filter(person=member).exists()
