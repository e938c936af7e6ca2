"""The portfolio dashboard: numbers match a hand-counted fixture, visibility, query counts."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.models import Deliverable
from deliverables.selectors import portfolio_activity, portfolio_dashboard
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)


def _work(project, owner, slug, due, status="not_started"):
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type(slug),
        title=f"{slug}-{due}",
        owner=owner,
        due_date=due,
    )
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status=status,
        blocked_reason="Waiting." if status == "blocked" else "",
        cancelled_reason="Dropped." if status == "cancelled" else "",
    )
    return deliverable


@pytest.fixture
def portfolio():
    manager = manager_user()
    owner = UserFactory()
    project = project_create(
        name="Alpha",
        managers=[manager],
        required_roles=[role("ml-engineer"), role("data-scientist")],
    )
    role_assign(membership=membership_add(project=project, user=owner), role=role("ml-engineer"))
    # The manager is on the team too and another member joins: joins must not multiply counts.
    role_assign(
        membership=membership_add(project=project, user=manager), role=role("engineering-manager")
    )
    membership_add(project=project, user=UserFactory())
    _work(project, owner, "prd", date(2026, 6, 1))  # overdue
    _work(project, owner, "deployed-model", date(2026, 6, 5), status="done")  # late but done
    _work(
        project, owner, "analysis-report", date(2026, 6, 15), status="in_progress"
    )  # due in 5 days
    _work(project, owner, "data-pipeline", date(2026, 7, 30), status="blocked")
    # Late and due soon, but cancelled: in no count of open, late or due work, and out
    # of completion's denominator (no longer part of the plan).
    _work(project, owner, "design-document", date(2026, 6, 2), status="cancelled")
    _work(project, owner, "project-plan", date(2026, 6, 12), status="cancelled")
    handbook = _work(project, owner, "process-documentation", date(2026, 6, 9))  # overdue
    items = list(handbook.checklist_items.all()[:10])
    checklist_update(
        deliverable=handbook,
        actor=owner,
        version=None,
        answers={
            item.pk: ChecklistAnswer(answer="Written.", link="https://x.example.com")
            for item in items
        },
    )
    hidden = project_create(name="Hidden", managers=[manager_user()])
    stranger = UserFactory()
    membership_add(project=hidden, user=stranger)
    _work(hidden, stranger, "prd", date(2026, 1, 1))
    return manager, project


@time_machine.travel(TODAY, tick=False)
def test_numbers_match_the_fixture(portfolio):
    manager, _project = portfolio
    dashboard = portfolio_dashboard(user=manager, today=TODAY)
    (row,) = dashboard.projects
    assert row.name == "Alpha"
    assert row.gap_count == 1  # data scientist missing
    assert {status: count for status, _label, count in row.by_status} == {
        "not_started": 2, "in_progress": 1, "in_review": 0, "done": 1, "blocked": 1,
        "cancelled": 2,
    }  # fmt: skip
    # Completion: 1 done of the 5 still planned (the 2 cancelled left the plan).
    assert (row.total, row.overdue, row.due_soon, row.completion) == (7, 2, 1, 20)
    assert row.handbook == round(100 * 10 / 29)
    # Only the owner has open work.
    (busiest,) = portfolio_activity(user=manager, today=TODAY).workload
    assert (busiest.open_deliverable_count, busiest.overdue_count, busiest.role_count) == (4, 2, 1)
    assert busiest.total_allocation == 100
    assert [(r.role_name, r.count) for r in dashboard.overdue_by_role] == [
        ("Engineering manager", 1),
        ("ML product manager", 1),
    ]


@time_machine.travel(TODAY, tick=False)
def test_a_manager_never_sees_counts_from_projects_they_may_not_see(client, portfolio):
    from mlteam.people import person_name

    manager, _project = portfolio
    client.force_login(manager)
    page = client.get(reverse("deliverables:portfolio_dashboard")).content.decode()
    assert "Alpha" in page and "Hidden" not in page
    # The workload and activity the page fetches: the stranger on Hidden is not listed.
    stranger = Deliverable.objects.get(project__name="Hidden").owner
    sections = client.get(reverse("deliverables:portfolio_activity")).content.decode()
    assert "Alpha" in sections and "Hidden" not in sections
    assert person_name(stranger) not in sections
    dashboard = portfolio_dashboard(user=manager, today=TODAY)
    assert sum(r.count for r in dashboard.overdue_by_role) == 2


@time_machine.travel(TODAY, tick=False)
def test_the_workload_and_activity_come_once_the_portfolio_is_drawn(client, portfolio):
    """The portfolio fetches them (htmx) in place of a link, which without JavaScript
    opens them as a page of their own."""
    manager, _project = portfolio
    client.force_login(manager)
    url = reverse("deliverables:portfolio_activity")
    page = client.get(reverse("deliverables:portfolio_dashboard")).content.decode()
    assert f'<div id="portfolio-activity" hx-get="{url}" hx-trigger="load"' in page
    assert f'<a class="touch-target" href="{url}">Workload and recent activity</a>' in page
    assert 'id="workload-heading"' not in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="portfolio-activity">')
    assert "<html" not in fragment and 'id="workload-heading"' in fragment
    assert 'id="recent-heading"' in fragment
    own_page = client.get(url).content.decode()
    assert "<html" in own_page and "<title>Workload and recent activity" in own_page
    assert 'id="workload-heading"' in own_page and 'id="recent-heading"' in own_page


def test_members_are_refused_with_a_reason(client):
    client.force_login(UserFactory())
    for name in ("deliverables:portfolio_dashboard", "deliverables:portfolio_activity"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        page = response.content.decode()
        assert "The portfolio dashboard is for managers and admins." in page
        assert "You cannot change this" not in page


@pytest.mark.parametrize(
    "url_name", ["deliverables:portfolio_dashboard", "deliverables:portfolio_activity"]
)
def test_dashboard_queries_do_not_grow_with_data(client, url_name):
    manager = manager_user()
    client.force_login(manager)

    def grow(projects: int, per_project: int) -> None:
        for n in range(projects):
            project = project_create(
                name=f"P{manager.pk}-{Deliverable.objects.count()}-{n}", managers=[manager]
            )
            owner = UserFactory()
            membership_add(project=project, user=owner)
            for k in range(per_project):
                _work(
                    project,
                    owner,
                    ["prd", "analysis-report", "process-documentation"][k % 3],
                    date(2026, 6, k + 1),
                )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(url_name)).status_code == 200
        return len(captured)

    grow(1, 1)
    small = queries()
    grow(4, 6)
    assert queries() == small


@time_machine.travel(TODAY, tick=False)
def test_project_dashboard_numbers(client, portfolio):
    from deliverables.selectors import project_dashboard

    manager, project = portfolio
    work = project_dashboard(project=project, today=TODAY)
    assert {status: count for status, _label, count in work.by_status} == {
        "not_started": 2, "in_progress": 1, "in_review": 0, "done": 1, "blocked": 1,
        "cancelled": 2,
    }  # fmt: skip
    assert work.total == 7
    assert work.overdue_total == 2 and work.upcoming_total == 1
    assert "cancelled" not in {d.status for d in work.progress}
    assert [d.type_slug for d in work.overdue] == ["prd", "process-documentation"]
    assert [d.type_slug for d in work.upcoming] == [
        "analysis-report"
    ]  # data-pipeline is 50 days out
    handbook = next(d for d in work.progress if d.type_slug == "process-documentation")
    assert (handbook.items_done, handbook.items_total) == (10, 29)
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert 'id="project-status-chart-data"' in page and "<progress" in page


@time_machine.travel(TODAY, tick=False)
def test_recent_activity_names_who_changed_what_newest_first_on_visible_projects(portfolio):
    from deliverables.services import deliverable_transition
    from mlteam.people import person_name
    from roles.models import TeamChange

    manager, project = portfolio
    later = Deliverable.objects.get(project=project, type__slug="analysis-report")
    with time_machine.travel(date(2027, 1, 1), tick=False):  # after the fixture's changes
        deliverable_transition(
            deliverable=later, actor=later.owner, to_status="in_review", version=None
        )
    feed = portfolio_activity(user=manager, today=TODAY).activity
    assert feed[0].deliverable_id == later.pk and feed[0].deliverable_label == later.label
    assert feed[0].label == "changed the status"
    assert feed[0].actor_name == person_name(later.owner) and feed[0].project_name == "Alpha"
    assert [entry.created_at for entry in feed] == sorted(
        (entry.created_at for entry in feed), reverse=True
    )
    team = [entry for entry in feed if entry.source == "team"]
    assert all(TeamChange.objects.filter(pk=entry.pk).exists() for entry in team)
    assert team and {entry.project_name for entry in feed} == {"Alpha"}  # never "Hidden"
    person_added = next(entry for entry in team if entry.person_name)
    assert person_added.label in {"added a person", "assigned a role"}


@time_machine.travel(TODAY, tick=False)
def test_admins_see_every_active_project_and_active_person_and_no_archived_one(portfolio):
    from django.contrib.auth import get_user_model

    from roles.services import project_archive
    from tests.factories import admin_user

    _manager, project = portfolio
    hidden = Deliverable.objects.get(project__name="Hidden").project
    admin = admin_user()
    dashboard = portfolio_dashboard(user=admin, today=TODAY)
    assert [p.name for p in dashboard.projects] == ["Alpha", "Hidden"]
    assert sum(row.count for row in dashboard.overdue_by_role) == 3  # Alpha 2, Hidden 1
    sections = portfolio_activity(user=admin, today=TODAY)
    assert {entry.project_name for entry in sections.activity} == {"Alpha", "Hidden"}
    assert len(sections.workload) == 2  # the owner on Alpha, the stranger on Hidden
    stranger = Deliverable.objects.get(project=hidden).owner
    get_user_model().objects.filter(pk=stranger.pk).update(is_active=False)
    project_archive(project=hidden, actor=admin, version=hidden.version)
    dashboard = portfolio_dashboard(user=admin, today=TODAY)
    assert [p.name for p in dashboard.projects] == ["Alpha"]
    assert sum(row.count for row in dashboard.overdue_by_role) == 2
    sections = portfolio_activity(user=admin, today=TODAY)
    assert {entry.project_name for entry in sections.activity} == {"Alpha"}
    assert [person.pk for person in sections.workload] == [
        Deliverable.objects.filter(project=project).first().owner_id
    ]


@time_machine.travel(TODAY, tick=False)
def test_the_handbook_figure_is_the_first_process_documentation_as_on_its_page(client, portfolio):
    manager, project = portfolio
    owner = Deliverable.objects.filter(project=project).first().owner
    second = _work(project, owner, "process-documentation", date(2026, 6, 20))
    answers = {item.pk: ChecklistAnswer(answer="All.") for item in second.checklist_items.all()}
    checklist_update(deliverable=second, actor=owner, version=None, answers=answers)
    (row,) = portfolio_dashboard(user=manager, today=TODAY).projects
    assert row.handbook == round(100 * 10 / 29)  # the first one's, not both together
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert "10 of 29 questions answered (34%)" in page


@time_machine.travel(TODAY, tick=False)
def test_the_30_day_timeline_is_not_hidden_behind_many_overdue_deliverables(client, portfolio):
    from deliverables.selectors import project_dashboard

    manager, project = portfolio
    owner = Deliverable.objects.filter(project=project).first().owner
    for n in range(12):
        _work(project, owner, "design-document", date(2026, 5, 1 + n))
    work = project_dashboard(project=project, today=TODAY)
    assert len(work.progress) == 10 and all(d.overdue for d in work.progress)
    assert work.overdue_total == 14  # the two of the fixture and these twelve
    assert [d.type_slug for d in work.upcoming] == ["analysis-report"]
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert "The 10 most overdue of 14: see them all" in page
    assert f"?project={project.pk}&amp;overdue=on" in page


def test_the_project_page_shows_the_newest_changes_and_links_to_the_rest(client, portfolio):
    from deliverables.services import comment_add

    manager, project = portfolio
    client.force_login(manager)
    url = reverse("roles:project_detail", args=[project.pk])
    all_activity = reverse("roles:project_activity", args=[project.pk])

    def activity() -> str:
        return client.get(url).content.decode().split('id="activity-heading"')[1]

    shown = activity()
    assert shown.count('<li class="list-group-item') == 14  # the fixture's changes
    assert all_activity not in shown
    deliverable = Deliverable.objects.filter(project=project).first()
    for n in range(6):
        comment_add(deliverable=deliverable, actor=manager, body=f"Note {n}")
    shown = activity()
    assert shown.count('<li class="list-group-item') == 15 and all_activity in shown
    assert shown.count("commented") == 6 and "Note 5" in shown  # the newest first


def test_labels_of_values_no_longer_among_the_choices_show_as_stored():
    from deliverables.models import DeliverableEvent
    from roles.models import TeamChange

    assert Deliverable(status="in_progress").status_label == "In progress"
    assert Deliverable(status="retired").status_label == "retired"
    assert DeliverableEvent(kind="archived").kind_label == "archived"
    assert TeamChange(action="merged").action_label == "merged"


def test_activity_times_are_the_orms(portfolio, settings):
    """Aware, equal to what the ORM reads, so pages show them in local time."""
    from deliverables.models import DeliverableEvent
    from deliverables.selectors import member_home, project_activity
    from deliverables.services import comment_add
    from roles.models import TeamChange

    settings.TIME_ZONE = "Asia/Tokyo"
    manager, project = portfolio
    deliverable = Deliverable.objects.filter(project=project).first()
    comment_add(deliverable=deliverable, actor=manager, body="Any news?")
    feeds = [
        project_activity(project=project),
        portfolio_activity(user=manager, today=TODAY).activity,
        member_home(user=deliverable.owner, today=TODAY).recent_changes,
    ]
    models = {"team": TeamChange, "work": DeliverableEvent}
    for feed in feeds:
        for entry in feed:
            assert entry.created_at == models[entry.source].objects.get(pk=entry.pk).created_at
            assert entry.created_at.utcoffset() is not None
    assert feeds[2] and all(entry.source == "work" for entry in feeds[2])


def test_the_cached_dashboards_hold_their_labels_as_words_in_the_readers_language(portfolio):
    """Plain str, not lazy translations: the entry is cached per language, and a
    lazy string costs a class to unpickle on every request that reads it."""
    from django.utils import translation

    from deliverables.selectors import project_activity, project_dashboard
    from deliverables.services import deliverable_transition

    manager, project = portfolio
    deliverable = Deliverable.objects.filter(project=project, status="not_started").first()
    deliverable_transition(
        deliverable=deliverable, actor=manager, to_status="in_progress", version=None
    )
    with translation.override("ja"):
        work = project_dashboard(project=project, today=TODAY)
        activity = project_activity(project=project)
    items = [*work.overdue, *work.upcoming, *work.progress]
    assert items and activity
    assert {type(item.status_label) for item in items} == {str}
    assert {type(entry.label) for entry in activity} == {str}
    assert "進行中" in {item.status_label for item in items}  # in progress, in Japanese


@time_machine.travel(TODAY, tick=False)
def test_every_workload_number_opens_a_list_of_that_many(client, portfolio):
    import re

    manager, _project = portfolio
    client.force_login(manager)
    page = client.get(reverse("deliverables:portfolio_activity")).content.decode()
    workload = page.split('id="workload-heading"')[1].split("</table>")[0]
    links = re.findall(r'href="(/deliverables/\?owner=[^"]+)">(\d+)</a>', workload)
    assert len(links) == 2  # open and overdue of the one person with open work
    assert [number for _href, number in links] == ["4", "2"]
    for href, number in links:
        listed = client.get(href.replace("&amp;", "&")).context["page_obj"].paginator.count
        assert listed == int(number), href
    assert "status=open" in links[0][0]  # done work is not open work


def test_the_open_status_filter_leaves_done_work_out(client, portfolio):
    from deliverables.selectors import DeliverableFilters, deliverable_list

    manager, project = portfolio
    rows = deliverable_list(
        user=manager, filters=DeliverableFilters(project=project.pk, status="open"), today=TODAY
    )
    assert sorted(d.status for d in rows) == [
        "blocked",
        "in_progress",
        "not_started",
        "not_started",
    ]


@time_machine.travel(TODAY, tick=False)
def test_the_timeline_says_how_many_more_are_due(client, portfolio):
    from deliverables.selectors import project_dashboard

    manager, project = portfolio
    owner = Deliverable.objects.filter(project=project).first().owner
    for n in range(11):
        _work(project, owner, "design-document", date(2026, 6, 20 + n % 5))
    work = project_dashboard(project=project, today=TODAY)
    assert len(work.upcoming) == 10 and work.upcoming_total == 12
    client.force_login(manager)
    page = client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert "The next 10 of 12: see them all" in page
    assert f"?project={project.pk}&amp;due_within=30" in page


@time_machine.travel(TODAY, tick=False)
def test_project_dashboard_keeps_the_first_open_and_the_first_due_in_30_days():
    """The first 10 open deliverables by due date (undated last) and, on their own,
    the first 10 due in the next 30 days; done work in neither."""
    from deliverables.selectors import project_dashboard

    manager = manager_user()
    project = project_create(name="Timeline", managers=[manager])
    owner = UserFactory()
    membership_add(project=project, user=owner)
    undated = _work(project, owner, "prd", None)
    _work(project, owner, "prd", date(2026, 6, 1), status="done")
    late = [_work(project, owner, "design-document", date(2026, 5, 1 + n)) for n in range(4)]
    coming = [_work(project, owner, "analysis-report", date(2026, 6, 11 + n)) for n in range(12)]
    later = _work(project, owner, "analysis-report", date(2026, 9, 1))

    work = project_dashboard(project=project, today=TODAY, limit=10)

    assert [item.pk for item in work.progress] == [d.pk for d in [*late, *coming[:6]]]
    assert [item.pk for item in work.overdue] == [d.pk for d in late]
    assert [item.pk for item in work.upcoming] == [d.pk for d in coming[:10]]
    assert work.upcoming_total == 12 and work.overdue_total == 4
    assert undated.pk not in [item.pk for item in work.progress]
    assert later.pk not in [item.pk for item in work.upcoming]

    few = project_dashboard(project=project, today=TODAY, limit=20)
    assert [item.pk for item in few.progress] == [d.pk for d in [*late, *coming, later, undated]][
        :20
    ]


@time_machine.travel(TODAY, tick=False)
def test_the_handbook_read_with_the_listed_rows_is_listed_only_where_it_belongs():
    """The handbook's figures come with the dashboard's rows: a done handbook due
    first, or an open one due after the first 10, is in no list, yet counted."""
    from deliverables.selectors import project_dashboard

    project = project_create(name="Handbook", managers=[manager_user()])
    owner = UserFactory()
    membership_add(project=project, user=owner)
    handbook = _work(project, owner, "process-documentation", date(2026, 4, 1))
    answers = {
        item.pk: ChecklistAnswer(answer="Written.", link="https://x.example.com")
        for item in handbook.checklist_items.all()[:3]
    }
    checklist_update(deliverable=handbook, actor=owner, version=None, answers=answers)
    Deliverable.objects.filter(pk=handbook.pk).update(status="done")
    late = [_work(project, owner, "design-document", date(2026, 5, 1 + n)) for n in range(10)]
    coming = [_work(project, owner, "analysis-report", date(2026, 6, 11 + n)) for n in range(10)]

    work = project_dashboard(project=project, today=TODAY)

    assert [i.pk for i in work.progress] == [d.pk for d in late]
    assert [i.pk for i in work.upcoming] == [d.pk for d in coming]
    total = handbook.checklist_items.count()
    assert (work.handbook.deliverable_id, work.handbook.total) == (handbook.pk, total)
    assert work.handbook.answered == 3

    Deliverable.objects.filter(pk=handbook.pk).update(status="in_progress", due_date=None)
    work = project_dashboard(project=project, today=TODAY)
    assert [i.pk for i in work.progress] == [d.pk for d in late]
    assert [i.pk for i in work.upcoming] == [d.pk for d in coming]
    assert (work.handbook.deliverable_id, work.handbook.answered) == (handbook.pk, 3)
