from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
)
from deliverables.selectors import plan_proposal
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create, role_assign
from tests.deliverables.conftest import deliverable_snapshot
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_second_save_from_the_same_page_is_refused_and_keeps_what_was_typed(client, work):
    deliverable = work.deliverable
    item = deliverable.checklist_items.filter(answer_kind="text").first()
    page_version = deliverable.version
    client.force_login(work.world.people["manager"])
    client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": page_version, "to_status": "in_progress"},
    )
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:checklist", args=[deliverable.pk]),
        {"version": page_version, f"item_{item.pk}": "My carefully written answer"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this deliverable" in page
    assert "My carefully written answer" in page
    assert deliverable_snapshot() == before


def test_checklist_answers_are_saved_with_who_and_when(client, work):
    deliverable = work.deliverable
    text_item = deliverable.checklist_items.filter(answer_kind="text").first()
    link_item = deliverable.checklist_items.filter(answer_kind="link").first()
    tick_item = deliverable.checklist_items.filter(answer_kind="tick").first()
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:checklist", args=[deliverable.pk]),
        {
            "version": deliverable.version,
            f"item_{text_item.pk}": "Logistic regression with bootstrap intervals.",
            f"item_{link_item.pk}": "https://docs.example.com/report",
            f"item_{tick_item.pk}": "on",
        },
    )
    assert response.status_code == 302
    for item in (text_item, link_item, tick_item):
        item.refresh_from_db()
        assert item.is_complete and item.answered_by == work.world.people["member"]
    assert DeliverableEvent.objects.filter(
        deliverable=deliverable, kind=EventKind.CHECKLIST
    ).exists()


def test_a_bad_link_in_the_checklist_is_a_field_error(client, work):
    deliverable = work.deliverable
    link_item = deliverable.checklist_items.filter(answer_kind="link").first()
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:checklist", args=[deliverable.pk]),
        {"version": deliverable.version, f"item_{link_item.pk}": "not a url at all"},
    )
    assert response.status_code == 422
    assert "Enter a valid URL." in response.content.decode()
    assert deliverable_snapshot() == before


def test_blocking_without_a_reason_is_a_clear_error(client, work):
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:transition", args=[work.deliverable.pk]),
        {"version": work.deliverable.version, "to_status": "blocked"},
    )
    assert response.status_code == 422
    assert "Say why the deliverable is blocked." in response.content.decode()


def test_only_managers_change_owner_due_date_and_type(client, work):
    deliverable = work.deliverable
    client.force_login(work.world.people["manager"])
    response = client.post(
        reverse("deliverables:edit", args=[deliverable.pk]),
        {
            "version": deliverable.version,
            "title": "Churn drivers, v2",
            "type": deliverable.type_id,
            "owner": work.world.people["colleague"].pk,
            "due_date": "2027-01-15",
        },
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.owner == work.world.people["colleague"]
    assert deliverable.due_date == date(2027, 1, 15)
    kinds = set(
        DeliverableEvent.objects.filter(deliverable=deliverable).values_list("kind", flat=True)
    )
    assert {EventKind.OWNER, EventKind.DUE_DATE, EventKind.TITLE} <= kinds


def test_owner_must_be_on_the_project_in_the_edit_form(client, work):
    client.force_login(work.world.people["manager"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:edit", args=[work.deliverable.pk]),
        {
            "version": work.deliverable.version,
            "title": "x",
            "type": work.deliverable.type_id,
            "owner": work.world.people["outsider"].pk,
        },
    )
    assert response.status_code == 422
    assert "The owner must be a member of the project." in response.content.decode()
    assert deliverable_snapshot() == before


def test_links_and_comments_are_recorded_in_the_history(client, work):
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    client.post(
        reverse("deliverables:link_add", args=[deliverable.pk]),
        {"kind": "model_registry", "url": "https://mlflow.example.com/m/7", "label": "v7"},
    )
    client.post(
        reverse("deliverables:comment_add", args=[deliverable.pk]), {"body": "Ready for review."}
    )
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "https://mlflow.example.com/m/7" in page
    assert "Ready for review." in page
    assert "added a link" in page and "commented" in page
    project_page = client.get(
        reverse("roles:project_detail", args=[work.world.project.pk])
    ).content.decode()
    assert "commented" in project_page


def test_csv_has_exactly_the_filtered_rows_the_user_may_see(client, work):
    hidden_project = project_create(name="Hidden", managers=[work.world.people["other_manager"]])
    stranger = UserFactory()
    membership_add(project=hidden_project, user=stranger)
    deliverable_create(
        project=hidden_project, type=deliverable_type("prd"), title="Secret PRD", owner=stranger
    )

    client.force_login(work.world.people["member"])
    rows = _csv(client.get(reverse("deliverables:export")))
    assert {row["deliverable"] for row in rows} == {"Churn drivers report", "Events pipeline"}
    assert list(rows[0]) == [
        "id", "project", "deliverable", "type", "role", "owner", "owner_name", "status", "due_date",
        "overdue", "checklist_done", "checklist_total",
    ]  # fmt: skip

    rows = _csv(
        client.get(reverse("deliverables:export") + f"?owner={work.world.people['member'].pk}")
    )
    assert [row["deliverable"] for row in rows] == ["Churn drivers report"]
    assert rows[0]["checklist_total"] == str(work.deliverable.checklist_items.count())

    client.force_login(work.world.people["admin"])
    assert "Secret PRD" in {
        row["deliverable"] for row in _csv(client.get(reverse("deliverables:export")))
    }


def test_csv_neutralises_spreadsheet_formulas(client, work):
    work.deliverable.title = '=HYPERLINK("http://evil")'
    work.deliverable.save()
    client.force_login(work.world.people["member"])
    rows = _csv(client.get(reverse("deliverables:export")))
    assert '\'=HYPERLINK("http://evil")' in {row["deliverable"] for row in rows}


@pytest.mark.parametrize(
    "title",
    [
        "＝1+1",  # full-width equals sign: spreadsheets read it as "="
        "＋1+1",
        "－1+1",
        "＠SUM(A1:A2)",
        "﹦1+1",  # small form variants, same reading
        "﹢1+1",
        "﹣1+1",
        "﹫SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1:A2)",
    ],
)
def test_csv_neutralises_full_width_and_ascii_formula_starts(client, work, title):
    work.deliverable.title = title
    work.deliverable.save()
    client.force_login(work.world.people["member"])
    rows = _csv(client.get(reverse("deliverables:export")))
    assert "'" + title in {row["deliverable"] for row in rows}


def test_csv_leaves_ordinary_text_alone(client, work):
    work.deliverable.title = "Ｆull-width letters and 1+1 = 2"
    work.deliverable.save()
    client.force_login(work.world.people["member"])
    rows = _csv(client.get(reverse("deliverables:export")))
    assert "Ｆull-width letters and 1+1 = 2" in {row["deliverable"] for row in rows}


@time_machine.travel(date(2026, 6, 10), tick=False)
def test_list_filters(client, work):
    work.deliverable.due_date = date(2026, 6, 1)  # overdue
    work.deliverable.save()
    work.colleagues.due_date = date(2026, 6, 14)  # due within 7 days
    work.colleagues.save()
    client.force_login(work.world.people["manager"])

    def titles(query: str) -> list[str]:
        rows = _csv(client.get(reverse("deliverables:export") + query))
        return [row["deliverable"] for row in rows]

    assert titles("?overdue=on") == ["Churn drivers report"]
    assert titles("?due_within=7") == ["Events pipeline"]
    assert titles("?due_within=2") == []
    assert titles(f"?role={role('data-engineer').pk}") == ["Events pipeline"]
    assert titles(f"?type={deliverable_type('analysis-report').pk}") == ["Churn drivers report"]
    assert titles("?status=not_started&sort=-due") == ["Events pipeline", "Churn drivers report"]
    assert titles("?q=pipeline") == ["Events pipeline"]
    assert titles("?due_within=-3")  # invalid filter is ignored, not a 500


def test_list_counts_up_to_its_limit_and_says_more_beyond(client, work, monkeypatch):
    deliverable_create(
        project=work.world.project,
        type=deliverable_type("analysis-report"),
        title="Third",
        owner=work.world.people["member"],
        actor=work.world.people["manager"],
    )
    monkeypatch.setattr("deliverables.views.PAGE_SIZE", 1)
    client.force_login(work.world.people["manager"])
    visible = Deliverable.objects.visible_to(work.world.people["manager"], active_only=True)
    count = visible.count()
    assert count >= 3

    # Up to the limit: the exact count and every page, as without one.
    monkeypatch.setattr("deliverables.selectors.LIST_COUNT_LIMIT", count)
    page = client.get(reverse("deliverables:list")).content.decode()
    assert f"{count} deliverables" in page
    assert f"Page 1 of {count}<" in page

    # Beyond it: "more than", and the pages stop at the limit's last row.
    monkeypatch.setattr("deliverables.selectors.LIST_COUNT_LIMIT", count - 1)
    page = client.get(reverse("deliverables:list") + "?page=99").content.decode()
    assert f"More than {count - 1} deliverables" in page
    assert f"Page {count - 1} of the first {count - 1}<" in page
    assert f"{count} deliverables" not in page


@time_machine.travel(date(2026, 6, 10), tick=False)
def test_my_work_lists_overdue_first_then_due_soon(client, work):
    member = work.world.people["member"]
    project = work.world.project
    soon = deliverable_create(
        project=project,
        type=deliverable_type("prd"),
        title="Soon",
        owner=member,
        due_date=date(2026, 6, 12),
    )
    later = deliverable_create(
        project=project,
        type=deliverable_type("project-plan"),
        title="Later",
        owner=member,
        due_date=date(2026, 9, 1),
    )
    late = deliverable_create(
        project=project,
        type=deliverable_type("design-document"),
        title="Late",
        owner=member,
        due_date=date(2026, 6, 1),
    )
    client.force_login(member)
    page = client.get(reverse("deliverables:my_work")).content.decode()
    positions = [
        page.index(t) for t in (late.title, soon.title, later.title, "Churn drivers report")
    ]
    assert positions == sorted(positions)
    assert "Events pipeline" not in page


def test_plan_proposes_role_deliverables_and_saves_them_in_one_go(client):
    manager = manager_user()
    project = project_create(name="Plan me", managers=[manager], start_date=date(2026, 1, 1))
    scientist, engineer = UserFactory(username="sci"), UserFactory(username="eng")
    role_assign(
        membership=membership_add(project=project, user=scientist), role=role("data-scientist")
    )
    role_assign(membership=membership_add(project=project, user=engineer), role=role("ml-engineer"))

    proposal = plan_proposal(project=project)
    by_type = {row["type_name"]: row for row in proposal}
    assert set(by_type) == {"Analysis report with visualisations", "Deployed model"}
    assert all(row["title"] == "" for row in proposal)  # named by the type, no title generated
    assert by_type["Deployed model"]["owner"] == engineer.pk
    assert by_type["Deployed model"]["due_date"] == date(2026, 1, 1) + timedelta(days=90)

    client.force_login(manager)
    project.refresh_from_db()
    data = {"version": project.version, "plan-TOTAL_FORMS": 2, "plan-INITIAL_FORMS": 2}
    for index, row in enumerate(proposal):
        data.update(
            {
                f"plan-{index}-include": "on",
                f"plan-{index}-type": row["type"],
                f"plan-{index}-title": f"Own title {index}",
                f"plan-{index}-owner": row["owner"],
                f"plan-{index}-due_date": "2026-03-01",
            }
        )
    response = client.post(reverse("deliverables:plan", args=[project.pk]), data, follow=True)
    assert response.redirect_chain[-1][1] == 302
    assert "2 deliverables planned." in response.content.decode()
    planned = Deliverable.objects.filter(project=project)
    assert planned.count() == 2
    assert {d.title for d in planned} == {"Own title 0", "Own title 1"}
    assert all(d.due_date == date(2026, 3, 1) for d in planned)
    assert ChecklistItem.objects.filter(deliverable__project=project).count() > 10
    assert plan_proposal(project=project) == []


def test_a_bad_plan_row_saves_nothing(client):
    manager = manager_user()
    project = project_create(name="Plan me", managers=[manager])
    role_assign(
        membership=membership_add(project=project, user=UserFactory()), role=role("data-scientist")
    )
    proposal = plan_proposal(project=project)
    client.force_login(manager)
    project.refresh_from_db()
    response = client.post(
        reverse("deliverables:plan", args=[project.pk]),
        {
            "version": project.version,
            "plan-TOTAL_FORMS": 1,
            "plan-INITIAL_FORMS": 1,
            "plan-0-include": "on",
            "plan-0-type": proposal[0]["type"],
            "plan-0-title": "",  # optional
            "plan-0-owner": UserFactory().pk,  # not on the project
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "The owner must be a member of the project." in page
    assert not Deliverable.objects.filter(project=project).exists()


def test_changing_the_type_asks_before_dropping_answers_and_keeps_shared_ones(client, work):
    deliverable = work.deliverable
    answered = deliverable.checklist_items.filter(answer_kind="tick").first()
    answered.checked = True
    answered.save()
    client.force_login(work.world.people["manager"])
    data = {
        "version": deliverable.version,
        "title": deliverable.title,
        "type": deliverable_type("prd").pk,
        "owner": deliverable.owner_id,
    }
    before = deliverable_snapshot()
    response = client.post(reverse("deliverables:edit", args=[deliverable.pk]), data)
    assert response.status_code == 422
    assert "1 answers given so far would be dropped" in response.content.decode()
    assert deliverable_snapshot() == before
    response = client.post(
        reverse("deliverables:edit", args=[deliverable.pk]), {**data, "confirm_type_change": "on"}
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.type.slug == "prd"


def test_due_date_before_the_project_starts_is_refused(client, work):
    project = work.world.project
    project.start_date = date(2026, 6, 1)
    project.save()
    client.force_login(work.world.people["manager"])
    response = client.post(
        reverse("deliverables:edit", args=[work.deliverable.pk]),
        {
            "version": work.deliverable.version,
            "title": "x",
            "type": work.deliverable.type_id,
            "owner": work.deliverable.owner_id,
            "due_date": "2020-01-01",
        },
    )
    assert response.status_code == 422
    assert "cannot be before the project starts" in response.content.decode()


def test_read_only_viewer_is_told_who_can_update(client, work):
    client.force_login(work.world.people["colleague"])
    page = client.get(reverse("deliverables:detail", args=[work.deliverable.pk])).content.decode()
    assert "Only the owner and the project" in page
    assert "Save checklist" not in page


def test_forbidden_and_missing_pages_are_styled(client, work):
    client.force_login(work.world.people["colleague"])
    response = client.get(reverse("deliverables:edit", args=[work.deliverable.pk]))
    assert response.status_code == 403 and "You cannot change this" in response.content.decode()
    response = client.get("/deliverables/999999/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_a_refused_checklist_save_keeps_what_was_saved_meanwhile(client, work):
    """The member's page was drawn before the manager ticked an item: the member's
    save is refused, and the checklist offered again holds the manager's tick
    (pointed out) and the member's own answer, so saving it again undoes nothing."""
    from tests.html_forms import form_data

    deliverable = work.deliverable
    tick = deliverable.checklist_items.filter(answer_kind="tick").first()
    text = deliverable.checklist_items.filter(answer_kind="text").first()
    # The page's forms post to its own address, so a refused one is shown there.
    url = reverse("deliverables:detail", args=[deliverable.pk])
    client.force_login(work.world.people["member"])
    detail = client.get(url).content.decode()
    drawn = form_data(detail, form_id="checklist-form")
    client.force_login(work.world.people["manager"])
    client.post(url, {**form_data(detail, form_id="checklist-form"), f"item_{tick.pk}": "on"})
    client.force_login(work.world.people["member"])
    response = client.post(url, {**drawn, f"item_{text.pk}": "My answer"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Changed by someone else meanwhile: now ticked." in page
    again = form_data(page, form_id="checklist-form")
    assert again[f"item_{tick.pk}"] == ["on"] and again[f"item_{text.pk}"] == ["My answer"]
    assert client.post(url, again).status_code == 302
    tick.refresh_from_db()
    text.refresh_from_db()
    assert tick.checked and text.answer == "My answer"


def test_a_done_deliverables_checklist_is_locked_until_reopened(client, work):
    from deliverables.models import DeliverableStatus

    deliverable = work.deliverable
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.DONE)
    deliverable.refresh_from_db()
    item = deliverable.checklist_items.filter(answer_kind="tick").first()
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:checklist", args=[deliverable.pk]),
        {"version": deliverable.version, f"item_{item.pk}": "on"},
    )
    assert response.status_code == 422
    assert "Reopen it before changing" in response.content.decode()
    assert deliverable_snapshot() == before


def test_an_invalid_filter_is_ignored_but_the_others_still_apply(client, work):
    client.force_login(work.world.people["member"])
    mine = f"?owner={work.world.people['member'].pk}"
    rows = _csv(client.get(reverse("deliverables:export") + mine + "&status=bogus"))
    assert [row["deliverable"] for row in rows] == ["Churn drivers report"]


def test_deliverables_of_an_archived_project_stay_readable(client, work):
    from roles.services import project_archive

    project_archive(project=work.world.project, actor=work.world.people["manager"], version=None)
    client.force_login(work.world.people["member"])
    page = client.get(reverse("deliverables:detail", args=[work.deliverable.pk]))
    assert page.status_code == 200
    assert "read-only" in page.content.decode()


@pytest.mark.parametrize("who", ["member", "manager"])
def test_an_archived_projects_deliverable_page_draws_no_form_that_would_be_refused(
    client, work, who
):
    """Read-only means no checklist, link, comment, edit or status form for anyone
    (they were drawn, then refused on submit); a hand-made post is refused too."""
    from roles.services import project_archive

    deliverable = work.deliverable
    project_archive(project=work.world.project, actor=work.world.people["manager"], version=None)
    client.force_login(work.world.people[who])
    html = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    for name in ("link_add", "comment_add", "edit", "transition", "cancel"):
        assert reverse(f"deliverables:{name}", args=[deliverable.pk]) not in html, name
    assert "Save checklist" not in html  # the checklist is shown, not offered
    response = client.post(
        reverse("deliverables:comment_add", args=[deliverable.pk]), {"body": "Still here?"}
    )
    assert response.status_code in (403, 422)
    assert not deliverable.comments.exists()


def test_the_plan_accepts_only_the_proposed_rows(client, work):
    project = work.world.project
    client.force_login(work.world.people["manager"])
    project.refresh_from_db()
    row = {
        "plan-0-include": "on",
        "plan-0-type": deliverable_type("deployed-model").pk,
        "plan-0-title": "A",
        "plan-1-include": "on",
        "plan-1-type": deliverable_type("deployed-model").pk,
        "plan-1-title": "B",
    }
    response = client.post(
        reverse("deliverables:plan", args=[project.pk]),
        {"version": project.version, "plan-TOTAL_FORMS": 1000000, "plan-INITIAL_FORMS": 0, **row},
    )
    assert response.status_code == 422
    assert not Deliverable.objects.filter(project=project, type__slug="deployed-model").exists()


def test_after_a_refused_save_the_form_can_be_sent_again(client, work):
    from tests.html_forms import form_data

    deliverable = work.deliverable
    stale = deliverable.version
    client.force_login(work.world.people["manager"])
    client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": stale, "to_status": "in_progress"},
    )
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": stale, "to_status": "in_review"},
    )
    assert response.status_code == 409
    again = form_data(response.content.decode(), form_id="status-form-in_review")
    response = client.post(
        reverse("deliverables:detail", args=[deliverable.pk]), {**again, "to_status": "in_review"}
    )
    assert response.status_code == 302


def test_status_sort_follows_the_workflow_not_the_codes(client, work):
    """Sorted by status, the list reads as the work moves: not started, in progress,
    in review, done, blocked (the order DeliverableStatus declares)."""
    statuses = [
        DeliverableStatus.BLOCKED,
        DeliverableStatus.IN_REVIEW,
        DeliverableStatus.NOT_STARTED,
        DeliverableStatus.DONE,
        DeliverableStatus.IN_PROGRESS,
    ]
    for status in statuses:
        created = deliverable_create(
            project=work.deliverable.project, type=deliverable_type("prd"), title=status
        )
        # Any status, whatever the workflow would take to get there: this is about order.
        Deliverable.objects.filter(pk=created.pk).update(status=status, blocked_reason="waiting")
    client.force_login(work.world.people["manager"])
    rows = _csv(client.get(reverse("deliverables:export") + "?q=PRD&sort=status"))
    seen = [row["status"] for row in rows]
    assert seen == sorted(seen, key=list(DeliverableStatus.values).index)
    assert len(set(seen)) == 5


def test_planning_one_deliverable_says_so_in_the_singular(client):
    manager = manager_user()
    project = project_create(name="Plan one", managers=[manager], start_date=date(2026, 1, 1))
    role_assign(
        membership=membership_add(project=project, user=UserFactory()), role=role("ml-engineer")
    )
    (row,) = plan_proposal(project=project)
    client.force_login(manager)
    project.refresh_from_db()
    data = {
        "version": project.version,
        "plan-TOTAL_FORMS": 1,
        "plan-INITIAL_FORMS": 1,
        "plan-0-include": "on",
        "plan-0-type": row["type"],
        "plan-0-owner": row["owner"],
        "plan-0-due_date": "2026-03-01",
    }
    response = client.post(reverse("deliverables:plan", args=[project.pk]), data, follow=True)
    assert "1 deliverable planned." in response.content.decode()
