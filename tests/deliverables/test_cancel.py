"""Cancelling a deliverable (issue 13): a project's managers drop work from the plan,
with a reason, instead of deleting it. Cancelled work is closed wherever open work is
counted, and stays visible on the project, in search, the CSV and the history."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from deliverables import workflow
from deliverables.models import (
    CLOSED_STATUSES,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
)
from deliverables.practices import selectors as practices_selectors
from deliverables.selectors import (
    member_home,
    my_work,
    people_with_load,
    plan_proposal,
    portfolio_dashboard,
    project_dashboard,
)
from deliverables.selectors import project_list as project_search
from deliverables.services import (
    ChecklistAnswer,
    checklist_update,
    deliverable_create,
    deliverable_transition,
)
from roles.services import project_archive, role_assign
from tests.deliverables.conftest import deliverable_snapshot
from tests.factories import deliverable_type, role
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

S = DeliverableStatus
TODAY = date(2026, 6, 10)
OPEN_STATUSES = [status for status in S.values if status not in CLOSED_STATUSES]
REASON = "The client dropped the churn study; the budget went to pricing."


def _put_in(deliverable, status):
    """Set a status directly, as the database would hold it."""
    deliverable.status = status
    deliverable.blocked_reason = "Waiting." if status == S.BLOCKED else ""
    deliverable.cancelled_reason = "Dropped." if status == S.CANCELLED else ""
    deliverable.save()


def _cancel(deliverable, actor, *, reason=REASON, version=None):
    return deliverable_transition(
        deliverable=deliverable, actor=actor, to_status=S.CANCELLED, version=version, reason=reason
    )


# --- the rule ------------------------------------------------------------------------------


def test_closed_is_done_and_cancelled_and_every_other_status_is_open():
    assert set(CLOSED_STATUSES) == {S.DONE, S.CANCELLED}
    for status in S.values:
        assert Deliverable(status=status).is_open is (status not in CLOSED_STATUSES)


@time_machine.travel(TODAY, tick=False)
def test_open_overdue_and_the_overdue_flag_leave_cancelled_work_out(work):
    late = TODAY - timedelta(days=3)
    Deliverable.objects.update(due_date=late)
    _cancel(work.deliverable, work.world.people["manager"])
    cancelled, colleagues = (
        Deliverable.objects.get(pk=work.deliverable.pk),
        Deliverable.objects.get(pk=work.colleagues.pk),
    )
    assert list(Deliverable.objects.open()) == [colleagues]
    assert list(Deliverable.objects.overdue(TODAY)) == [colleagues]
    assert not cancelled.is_overdue(TODAY) and colleagues.is_overdue(TODAY)
    flags = dict(Deliverable.objects.with_overdue(TODAY).values_list("pk", "overdue"))
    assert flags == {cancelled.pk: False, colleagues.pk: True}


# --- the workflow --------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN_STATUSES)
def test_a_manager_cancels_from_every_open_status_and_the_history_says_who_and_why(work, status):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    _put_in(deliverable, status)
    _cancel(deliverable, manager, version=deliverable.version)
    deliverable.refresh_from_db()
    assert (deliverable.status, deliverable.cancelled_reason) == (S.CANCELLED, REASON)
    assert deliverable.blocked_reason == ""  # the block's reason stays in the history only
    event = deliverable.events.first()  # the newest
    assert (event.kind, event.actor) == (EventKind.STATUS, manager)
    assert event.payload == {
        "before": {"status": status},
        "after": {"status": "cancelled", "reason": REASON},
    }
    assert event.display_after == f"Cancelled: {REASON}"
    with translation.override("ja"):
        assert event.display_after.startswith(str(S.CANCELLED.label) + ": ")


def test_an_admin_cancels_too(work):
    _cancel(work.deliverable, work.world.people["admin"])
    work.deliverable.refresh_from_db()
    assert work.deliverable.status == S.CANCELLED


def test_done_work_is_not_cancelled(work):
    deliverable = work.deliverable
    _put_in(deliverable, S.DONE)
    before = deliverable_snapshot()
    with pytest.raises(
        ValidationError, match="A deliverable that is Done cannot move to Cancelled"
    ):
        _cancel(deliverable, work.world.people["manager"])
    assert deliverable_snapshot() == before


@pytest.mark.parametrize("persona", ["member", "colleague", "other_manager"])
def test_only_the_projects_managers_cancel(work, persona):
    """The owner (member) cannot cancel their own work, nor may anyone else who is
    not a manager of the project."""
    before = deliverable_snapshot()
    with pytest.raises(ValidationError, match="Only the project's managers can cancel") as raised:
        _cancel(work.deliverable, work.world.people[persona])
    assert raised.value.code == "manager_only"
    assert deliverable_snapshot() == before


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_cancelling_without_a_reason_is_refused_with_a_message(work, reason):
    before = deliverable_snapshot()
    with pytest.raises(ValidationError, match="Say why the deliverable is cancelled"):
        _cancel(work.deliverable, work.world.people["manager"], reason=reason)
    assert deliverable_snapshot() == before


def test_cancelling_from_a_stale_version_is_refused(work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    drawn = deliverable.version
    deliverable_transition(
        deliverable=deliverable, actor=manager, to_status=S.IN_PROGRESS, version=drawn
    )
    before = deliverable_snapshot()
    with pytest.raises(ValidationError, match="Someone else saved") as raised:
        _cancel(Deliverable.objects.get(pk=deliverable.pk), manager, version=drawn)
    assert raised.value.code == "stale"
    assert deliverable_snapshot() == before


def test_work_of_an_archived_project_is_not_cancelled(work):
    project, manager = work.world.project, work.world.people["manager"]
    project_archive(project=project, actor=manager, version=project.version)
    before = deliverable_snapshot()
    with pytest.raises(ValidationError, match="archived"):
        _cancel(Deliverable.objects.get(pk=work.deliverable.pk), manager)
    assert deliverable_snapshot() == before


def test_a_manager_restores_cancelled_work_to_not_started_and_the_owner_cannot(work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    _put_in(deliverable, S.IN_REVIEW)
    _cancel(deliverable, manager)
    deliverable.refresh_from_db()
    assert workflow.actions_for(S.CANCELLED, manages=False) == {}
    with pytest.raises(ValidationError, match="Only the project's managers can restore"):
        deliverable_transition(
            deliverable=deliverable,
            actor=work.world.people["member"],
            to_status=S.NOT_STARTED,
            version=deliverable.version,
        )
    deliverable_transition(
        deliverable=deliverable, actor=manager, to_status=S.NOT_STARTED, version=deliverable.version
    )
    deliverable.refresh_from_db()
    assert (deliverable.status, deliverable.cancelled_reason) == (S.NOT_STARTED, "")
    moves = [
        (e.payload["before"]["status"], e.payload["after"]["status"])
        for e in deliverable.events.filter(kind=EventKind.STATUS).order_by("pk")
    ]
    assert moves[-2:] == [(S.IN_REVIEW, S.CANCELLED), (S.CANCELLED, S.NOT_STARTED)]
    # Its checklist, links and comments were kept throughout.
    assert deliverable.links.count() == 1 and deliverable.checklist_items.exists()


def test_the_database_refuses_a_cancelled_deliverable_without_its_reason(work):
    with pytest.raises(IntegrityError), transaction.atomic():
        Deliverable.objects.filter(pk=work.deliverable.pk).update(status=S.CANCELLED)


# --- the deliverable's page ---------------------------------------------------------------


def _buttons(page: str) -> dict[str, str]:
    return dict(
        re.findall(r'<button type="submit" name="to_status" value="([a-z_]+)"[^>]*>([^<]*)</', page)
    )


def test_the_page_offers_cancelling_to_managers_on_a_page_of_its_own(client, work):
    url = reverse("deliverables:detail", args=[work.deliverable.pk])
    cancel_url = reverse("deliverables:cancel", args=[work.deliverable.pk])
    client.force_login(work.world.people["member"])  # the owner
    page = client.get(url).content.decode()
    assert cancel_url not in page and S.CANCELLED not in _buttons(page)
    client.force_login(work.world.people["manager"])
    page = client.get(url).content.decode()
    assert f'href="{cancel_url}"' in page and S.CANCELLED not in _buttons(page)
    form = client.get(cancel_url)
    assert form.status_code == 200
    assert (
        'name="reason"' in form.content.decode() and "Why is it cancelled?" in form.content.decode()
    )


def test_cancelling_on_the_page_records_the_reason_and_offers_restore(client, work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    client.force_login(manager)
    response = client.post(
        reverse("deliverables:cancel", args=[deliverable.pk]),
        {"version": deliverable.version, "reason": "Merged into the **pricing** study."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("deliverables:detail", args=[deliverable.pk])
    page = response.content.decode()
    assert "Deliverable cancelled." in page
    assert "Cancelled:" in page and "<strong>pricing</strong>" in page  # the reason, as markdown
    assert _buttons(page) == {S.NOT_STARTED: "Restore"}
    deliverable.refresh_from_db()
    assert deliverable.status == S.CANCELLED
    assert DeliverableEvent.objects.filter(deliverable=deliverable, actor=manager).first().payload[
        "after"
    ] == {
        "status": "cancelled",
        "reason": "Merged into the **pricing** study.",
    }
    # The owner sees why, and no move at all.
    client.force_login(work.world.people["member"])
    owner_page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "Merged into the" in owner_page and _buttons(owner_page) == {}
    response = client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": deliverable.version, "to_status": S.NOT_STARTED},
    )
    assert response.status_code == 403
    client.force_login(manager)
    response = client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": deliverable.version, "to_status": S.NOT_STARTED},
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.status == S.NOT_STARTED


def test_the_cancel_page_refuses_a_missing_reason_and_a_stale_version_keeping_the_input(
    client, work
):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    url = reverse("deliverables:cancel", args=[deliverable.pk])
    client.force_login(manager)
    before = deliverable_snapshot()
    response = client.post(url, {"version": deliverable.version, "reason": "  "})
    assert response.status_code == 422
    assert "Say why the deliverable is cancelled." in response.content.decode()
    assert deliverable_snapshot() == before

    drawn = deliverable.version
    deliverable_transition(
        deliverable=deliverable, actor=manager, to_status=S.IN_PROGRESS, version=drawn
    )
    before = deliverable_snapshot()
    response = client.post(url, {"version": drawn, "reason": "No longer needed."})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this deliverable" in page and "No longer needed." in page
    assert f'name="version" value="{drawn + 1}"' in page  # re-sent, it goes through
    assert deliverable_snapshot() == before
    assert (
        client.post(url, {"version": drawn + 1, "reason": "No longer needed."}).status_code == 302
    )


def test_done_work_has_no_cancel_page(client, work):
    _put_in(work.deliverable, S.DONE)
    client.force_login(work.world.people["manager"])
    response = client.get(reverse("deliverables:cancel", args=[work.deliverable.pk]), follow=True)
    assert "This deliverable is Done: only open work can be cancelled." in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse(
        "deliverables:detail", args=[work.deliverable.pk]
    )


@pytest.mark.parametrize("language", ["en", "ja"])
def test_pages_with_cancelled_work_render_in_each_language(client, work, language):
    manager = work.world.people["manager"]
    _cancel(work.deliverable, manager)
    client.force_login(manager)
    headers = {"accept-language": language}
    with translation.override(language):
        label, restore = (
            str(S.CANCELLED.label),
            str(workflow.TRANSITIONS[S.CANCELLED][S.NOT_STARTED]),
        )
        cancel_title = str(workflow.CANCEL)
    pages = {
        reverse("deliverables:detail", args=[work.deliverable.pk]): [label, restore],
        reverse("deliverables:cancel", args=[work.colleagues.pk]): [cancel_title],
        reverse("deliverables:list") + "?status=cancelled": [label],
        reverse("roles:project_detail", args=[work.world.project.pk]): [label],
        reverse("deliverables:plan", args=[work.world.project.pk]): [],
    }
    for url, expected in pages.items():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        page = response.content.decode()
        for text in expected:
            assert text in page, (url, text)


# --- lists, search and the CSV --------------------------------------------------------------


def _csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@time_machine.travel(TODAY, tick=False)
def test_the_list_keeps_cancelled_work_greyed_searchable_and_filtered_out_of_open(client, work):
    Deliverable.objects.update(due_date=TODAY - timedelta(days=2))
    _cancel(work.deliverable, work.world.people["manager"])
    client.force_login(work.world.people["member"])
    url = reverse("deliverables:list")

    def listed(query: str = "") -> list[str]:
        page = client.get(url + query).content.decode()
        return re.findall(r'<tr class="status-row-([a-z_]+)"', page)

    assert sorted(listed()) == ["cancelled", "not_started"]
    assert listed("?status=cancelled") == ["cancelled"]
    assert listed("?status=open") == ["not_started"]
    assert listed("?overdue=on") == ["not_started"]
    assert listed("?due_within=30") == []  # both are late; the cancelled one is not due
    assert listed("?q=Churn+drivers") == ["cancelled"]  # its own title
    rows = {row["id"]: row for row in _csv(client.get(reverse("deliverables:export")))}
    cancelled = rows[str(work.deliverable.pk)]
    assert (cancelled["status"], cancelled["overdue"]) == ("cancelled", "no")
    assert rows[str(work.colleagues.pk)]["overdue"] == "yes"


@time_machine.travel(TODAY, tick=False)
def test_my_work_the_home_page_and_the_people_and_project_counts_leave_cancelled_work_out(work):
    member, manager = work.world.people["member"], work.world.people["manager"]
    late = deliverable_create(
        project=work.world.project, type=deliverable_type("prd"), owner=member,
        due_date=TODAY - timedelta(days=1),
    )  # fmt: skip
    soon = deliverable_create(
        project=work.world.project, type=deliverable_type("project-plan"), owner=member,
        due_date=TODAY + timedelta(days=2),
    )  # fmt: skip
    kept = work.deliverable
    _cancel(late, manager)
    _cancel(soon, manager)
    assert [d.pk for d in my_work(user=member, today=TODAY)] == [kept.pk]
    home = member_home(user=member, today=TODAY)
    assert (home.overdue, home.due_soon, home.overdue_total, home.due_soon_total) == ([], [], 0, 0)
    (card,) = home.projects
    assert card.open_deliverable_count == 2  # member's and colleague's, not the cancelled two
    people = {person.pk: person for person in people_with_load(user=manager)}
    assert people[member.pk].open_deliverable_count == 1
    (project,) = [p for p in project_search(user=manager) if p.pk == work.world.project.pk]
    assert project.open_deliverable_count == 2


# --- planning and the handbook ------------------------------------------------------------------


def test_the_plan_does_not_propose_a_cancelled_type_again_unless_asked(client, work):
    manager, project = work.world.people["manager"], work.world.project
    # The member also leads engineering, whose deliverables include the handbook.
    role_assign(membership=work.world.membership, role=role("engineering-manager"))
    handbook = deliverable_create(
        project=project, type=deliverable_type("process-documentation"),
        owner=work.world.people["member"], actor=manager,
    )  # fmt: skip
    item = handbook.checklist_items.filter(answer_kind="text").first()
    checklist_update(
        deliverable=handbook, actor=manager, version=None,
        answers={item.pk: ChecklistAnswer(answer="Ask in #churn.")},
    )  # fmt: skip
    project.refresh_from_db()
    before = {row["type"] for row in plan_proposal(project=project)}
    _cancel(handbook, manager)
    assert {row["type"] for row in plan_proposal(project=project)} == before
    again = plan_proposal(project=project, include_cancelled=True)
    (row,) = [row for row in again if row["type"] == handbook.type_id]
    assert row["cancelled_before"] and not any(r["cancelled_before"] for r in again if r is not row)

    client.force_login(manager)
    url = reverse("deliverables:plan", args=[project.pk])
    page = client.get(url).content.decode()
    assert (
        "Not proposed again, because their deliverables on this project were cancelled: "
        "Team process documentation." in page
    )
    assert f'href="{url}?cancelled=1"' in page
    # The list reads as Japanese does, its punctuation too.
    ja = client.get(url, headers={"accept-language": "ja"})
    listed = "再提案していない種類：チームのプロセスドキュメント。"
    assert listed in ja.content.decode()
    page = client.get(url + "?cancelled=1").content.decode()
    assert "cancelled before" in page
    data = form_data(page, action=None)  # what the browser sends: every row ticked
    for name in [name for name in data if name.endswith("-include")]:
        if data[name.replace("-include", "-type")] != [str(handbook.type_id)]:
            del data[name]  # only the handbook planned again
    response = client.post(url + "?cancelled=1", data)
    assert response.status_code == 302
    fresh = Deliverable.objects.get(project=project, type=handbook.type, status=S.NOT_STARTED)
    # The new handbook takes over on its page and in the project's figures.
    assert practices_selectors.handbook_deliverable(project=project) == fresh
    summary = project_dashboard(project=project, today=TODAY).handbook
    assert (summary.deliverable_id, summary.answered) == (fresh.pk, 0)
    (row,) = [
        p for p in portfolio_dashboard(user=manager, today=TODAY).projects if p.pk == project.pk
    ]
    assert row.handbook == 0
    page = client.get(reverse("practices:handbook", args=[project.pk])).content.decode()
    assert f'href="{reverse("deliverables:detail", args=[fresh.pk])}' in page
    assert "This handbook's deliverable is cancelled" not in page


def test_a_cancelled_handbook_keeps_its_page_with_a_note(client, work):
    manager, project = work.world.people["manager"], work.world.project
    handbook = deliverable_create(
        project=project, type=deliverable_type("process-documentation"),
        owner=work.world.people["member"], actor=manager,
    )  # fmt: skip
    _cancel(handbook, manager)
    client.force_login(work.world.people["member"])
    for url in (
        reverse("practices:handbook", args=[project.pk]),
        reverse("practices:handbook_newcomer", args=[project.pk]),
    ):
        assert client.get(url).status_code == 200
    page = client.get(reverse("practices:handbook", args=[project.pk])).content.decode()
    assert "This handbook's deliverable is cancelled" in page
    # Its figures still count it, on the project page and the portfolio alike.
    summary = project_dashboard(project=project, today=TODAY).handbook
    assert summary.deliverable_id == handbook.pk and summary.total > 0
    (row,) = [
        p for p in portfolio_dashboard(user=manager, today=TODAY).projects if p.pk == project.pk
    ]
    assert row.handbook == 0  # no answer yet, rather than no handbook ("—")


# --- the admin's action -----------------------------------------------------------------------

CHANGELIST = "admin:deliverables_deliverable_changelist"


def _choose(client, deliverables) -> str:
    """Tick deliverables on the admin's list and choose "Cancel selected deliverables":
    the confirmation page."""
    response = client.post(
        reverse(CHANGELIST),
        {"action": "cancel_selected", "index": 0, "_selected_action": [d.pk for d in deliverables]},
    )
    assert response.status_code == 200
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_admin_cancels_selected_deliverables_through_the_workflow(client, work):
    admin = work.world.people["admin"]
    done = work.colleagues
    _put_in(done, S.DONE)
    third = deliverable_create(
        project=work.world.project, type=deliverable_type("prd"), owner=work.world.people["member"]
    )
    client.force_login(admin)
    page = _choose(client, [work.deliverable, done, third])
    assert "Cancel selected deliverables" in page and 'name="reason"' in page
    data = form_data(page)
    assert data["post"] == ["yes"] and len(data["_selected_action"]) == 3
    data["reason"] = ["Replaced by the pricing project."]
    response = client.post(reverse(CHANGELIST), data, follow=True)
    assert response.status_code == 200
    shown = _messages(response)
    assert "2 deliverables cancelled." in shown
    # Done work is left as the confirmation page says, not reported as an error.
    assert "1 deliverable was done or already cancelled and is left as it is." in shown
    assert not any("was not cancelled" in message for message in shown)
    for deliverable in (work.deliverable, third):
        deliverable.refresh_from_db()
        assert (deliverable.status, deliverable.cancelled_reason) == (
            S.CANCELLED,
            "Replaced by the pricing project.",
        )
        event = deliverable.events.first()
        assert (event.actor, event.payload["after"]) == (
            admin,
            {"status": "cancelled", "reason": "Replaced by the pricing project."},
        )
    assert Deliverable.objects.get(pk=done.pk).status == S.DONE


def test_the_admins_action_asks_for_a_reason_and_changes_nothing_without_one(client, work):
    client.force_login(work.world.people["admin"])
    data = form_data(_choose(client, [work.deliverable]))
    before = deliverable_snapshot()
    response = client.post(reverse(CHANGELIST), {**data, "reason": ["  "]})
    assert response.status_code == 422
    assert "Say why the deliverable is cancelled." in response.content.decode()
    assert deliverable_snapshot() == before


def test_the_admins_action_refuses_a_deliverable_changed_since_the_confirmation_page(client, work):
    client.force_login(work.world.people["admin"])
    data = form_data(_choose(client, [work.deliverable, work.colleagues]))
    deliverable_transition(
        deliverable=work.deliverable,
        actor=work.world.people["member"],
        to_status=S.IN_PROGRESS,
        version=work.deliverable.version,
    )
    data["reason"] = ["No longer needed."]
    response = client.post(reverse(CHANGELIST), data, follow=True)
    shown = _messages(response)
    assert "1 deliverable cancelled." in shown
    assert any(
        m.endswith(
            "was not cancelled: someone else changed it after you selected it. Open it "
            "to see what changed, and cancel it again if it should still be cancelled."
        )
        for m in shown
    )
    assert not any("Your input is kept below" in m for m in shown)  # no form is offered again
    assert Deliverable.objects.get(pk=work.deliverable.pk).status == S.IN_PROGRESS
    assert Deliverable.objects.get(pk=work.colleagues.pk).status == S.CANCELLED


def test_staff_who_manage_no_project_are_refused_by_the_same_rule(client, work):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_deliverable", "change_deliverable"])
    )
    client.force_login(clerk)
    data = form_data(_choose(client, [work.deliverable]))
    before = deliverable_snapshot()
    response = client.post(reverse(CHANGELIST), {**data, "reason": ["Tidying up."]}, follow=True)
    (message,) = _messages(response)
    assert "was not cancelled: Only the project's managers can cancel a deliverable." in message
    assert deliverable_snapshot() == before


def test_the_action_needs_the_change_permission(client, work):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_deliverable"))
    client.force_login(reader)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert "cancel_selected" not in page
