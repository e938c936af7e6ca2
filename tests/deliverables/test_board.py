"""The deliverables board: a project's and My work's, moving cards through the
same workflow service as the deliverable page, and the remembered list/board choice."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from deliverables.models import (
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    ReminderPreference,
    WorkView,
)
from deliverables.services import (
    checklist_update,
    deliverable_transition,
    deliverable_update,
    work_view_remember,
)
from deliverables.workflow import BOARD_COLUMNS
from tests.deliverables.conftest import deliverable_snapshot

HTMX = {"HTTP_HX_REQUEST": "true"}


def _board_url(work):
    return reverse("deliverables:project_board", args=[work.world.project.pk])


def _move(client, deliverable, to_status, *, board="project", htmx=False, **extra):
    return client.post(
        reverse("deliverables:move", args=[deliverable.pk]),
        {"version": deliverable.version, "to_status": to_status, "board": board, **extra},
        **(HTMX if htmx else {}),
    )


def _column_of(html: str, pk: int) -> str:
    """The status of the column the card of deliverable `pk` is drawn in."""
    card = html.index(f'id="card-{pk}"')
    column = html.rindex('class="board-column" data-status="', 0, card)
    start = column + len('class="board-column" data-status="')
    return html[start : html.index('"', start)]


def _open_required(deliverable):
    return [i for i in deliverable.checklist_items.all() if i.required and not i.is_complete]


def test_columns_follow_the_workflow_order_without_cancelled():
    assert BOARD_COLUMNS == (
        DeliverableStatus.NOT_STARTED,
        DeliverableStatus.IN_PROGRESS,
        DeliverableStatus.IN_REVIEW,
        DeliverableStatus.BLOCKED,
        DeliverableStatus.DONE,
    )


@time_machine.travel(date(2026, 6, 10), tick=False)
def test_board_shows_each_card_with_type_owner_due_date_overdue_and_progress(client, work):
    manager = work.world.people["manager"]
    deliverable_update(
        deliverable=work.deliverable,
        actor=manager,
        version=work.deliverable.version,
        title=work.deliverable.title,
        owner=work.deliverable.owner,
        due_date=date(2026, 6, 1),
        type=work.deliverable.type,
    )
    client.force_login(work.world.people["member"])
    response = client.get(_board_url(work))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'data-status="{status}"') for status in BOARD_COLUMNS]
    assert positions == sorted(positions)
    assert 'data-status="cancelled"' not in html
    assert _column_of(html, work.deliverable.pk) == "not_started"
    card = html[html.index(f'id="card-{work.deliverable.pk}"') :]
    card = card[: card.index("</li>")]
    assert "Analysis report" in card and "Churn drivers report" in card
    assert "overdue" in card and "board-card-overdue" in html
    total = work.deliverable.checklist_items.count()
    assert f"0/{total}" in card
    assert "Move to" in card  # the member owns it


def test_a_card_without_its_own_title_names_its_type_once(client, work):
    from deliverables.services import deliverable_create
    from tests.factories import deliverable_type

    untitled = deliverable_create(
        project=work.world.project,
        type=deliverable_type("prd"),
        owner=work.world.people["member"],
        actor=work.world.people["manager"],
    )
    client.force_login(work.world.people["member"])
    html = client.get(_board_url(work)).content.decode()
    card = html[html.index(f'id="card-{untitled.pk}"') :]
    card = card[: card.index("</li>")]
    name = untitled.type.display_name
    assert card.count(name) == 1 and f">{name}</a>" in card


def test_member_gets_no_move_form_on_someone_elses_card(client, work):
    client.force_login(work.world.people["member"])
    html = client.get(_board_url(work)).content.decode()
    theirs = html[html.index(f'id="card-{work.colleagues.pk}"') :]
    theirs = theirs[: theirs.index("</li>")]
    assert "<form" not in theirs and 'draggable="true"' not in theirs


def test_cancelled_work_is_off_the_board(client, work):
    manager = work.world.people["manager"]
    deliverable_transition(
        deliverable=work.colleagues,
        actor=manager,
        to_status=DeliverableStatus.CANCELLED,
        version=work.colleagues.version,
        reason="Dropped.",
    )
    client.force_login(manager)
    html = client.get(_board_url(work)).content.decode()
    assert f'id="card-{work.colleagues.pk}"' not in html


def test_member_moves_a_card_without_javascript(client, work):
    client.force_login(work.world.people["member"])
    response = _move(client, work.deliverable, "in_progress")
    assert response.status_code == 302
    assert response["Location"] == _board_url(work)
    work.deliverable.refresh_from_db()
    assert work.deliverable.status == "in_progress"
    assert DeliverableEvent.objects.filter(deliverable=work.deliverable, kind="status").exists()
    page = client.get(response["Location"]).content.decode()
    assert "is now In progress" in page
    assert _column_of(page, work.deliverable.pk) == "in_progress"


def test_htmx_move_answers_with_the_board_in_its_new_column(client, work):
    client.force_login(work.world.people["member"])
    response = _move(client, work.deliverable, "in_progress", htmx=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html
    assert _column_of(html, work.deliverable.pk) == "in_progress"
    assert "is now In progress" in html


def test_move_from_my_work_goes_back_to_my_work(client, work):
    client.force_login(work.world.people["member"])
    response = _move(client, work.deliverable, "in_progress", board="mine")
    assert response.status_code == 302
    assert response["Location"] == reverse("deliverables:my_work")


@pytest.mark.parametrize("htmx", [False, True])
def test_blocked_asks_for_a_reason_and_saves_nothing_without_one(client, work, htmx):
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = _move(client, work.deliverable, "blocked", htmx=htmx, reason="  ")
    assert response.status_code == (200 if htmx else 422)
    html = response.content.decode()
    assert "Say why the deliverable is blocked." in html
    assert f'id="reason-{work.deliverable.pk}-error"' in html  # next to the box
    assert deliverable_snapshot() == before
    response = _move(client, work.deliverable, "blocked", htmx=htmx, reason="Waiting for data")
    work.deliverable.refresh_from_db()
    assert work.deliverable.status == "blocked"
    assert work.deliverable.blocked_reason == "Waiting for data"


def test_done_refused_with_the_missing_items_named_then_override_works(client, work):
    manager = work.world.people["manager"]
    d = work.deliverable
    for status in ("in_progress", "in_review"):
        d = deliverable_transition(
            deliverable=d, actor=manager, to_status=status, version=d.version
        )
    missing = _open_required(d)
    assert missing
    client.force_login(manager)
    before = deliverable_snapshot()
    response = _move(client, d, "done", htmx=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "required checklist items are still open" in html
    for item in missing:
        assert item.display_text in html
    assert f'id="override-{d.pk}"' in html and "board-extra-open" in html
    assert deliverable_snapshot() == before
    response = _move(client, d, "done", override_reason="Signed off in the meeting.")
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == "done" and d.done_override_reason == "Signed off in the meeting."


def test_done_works_once_the_checklist_is_complete(client, work):
    manager = work.world.people["manager"]
    d = work.deliverable
    for status in ("in_progress", "in_review"):
        d = deliverable_transition(
            deliverable=d, actor=manager, to_status=status, version=d.version
        )
    from deliverables.services import ChecklistAnswer

    answers = {
        item.pk: ChecklistAnswer(checked=True, answer="Yes.", link="https://e.example.com/x")
        for item in d.checklist_items.all()
    }
    checklist_update(deliverable=d, actor=manager, version=d.version, answers=answers)
    d.refresh_from_db()
    client.force_login(manager)
    assert _move(client, d, "done").status_code == 302
    d.refresh_from_db()
    assert d.status == "done"


def test_member_cannot_move_a_card_to_done(client, work):
    manager = work.world.people["manager"]
    d = work.deliverable
    for status in ("in_progress", "in_review"):
        d = deliverable_transition(
            deliverable=d, actor=manager, to_status=status, version=d.version
        )
    client.force_login(work.world.people["member"])
    html = client.get(_board_url(work)).content.decode()
    card = html[html.index(f'id="card-{d.pk}"') :]
    assert 'value="done"' not in card[: card.index("</li>")]
    before = deliverable_snapshot()
    assert _move(client, d, "done", override_reason="Mine.").status_code == 403
    assert deliverable_snapshot() == before


def test_a_move_the_workflow_forbids_is_refused_on_the_card(client, work):
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = _move(client, work.deliverable, "in_review", htmx=True)  # from not started
    assert response.status_code == 200
    assert "cannot move to In review" in response.content.decode()
    assert deliverable_snapshot() == before


@pytest.mark.parametrize("htmx", [False, True])
def test_stale_card_says_so_and_keeps_the_reason_typed(client, work, htmx):
    d = work.deliverable
    stale_version = d.version
    deliverable_transition(
        deliverable=Deliverable.objects.get(pk=d.pk),
        actor=work.world.people["manager"],
        to_status="in_progress",
        version=d.version,
    )
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:move", args=[d.pk]),
        {"version": stale_version, "to_status": "blocked", "reason": "Waiting for the GPU"},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == (200 if htmx else 409)
    html = response.content.decode()
    assert "Someone else saved this deliverable" in html
    assert "Waiting for the GPU" in html  # nothing lost
    assert _column_of(html, d.pk) == "in_progress"  # drawn as it is now
    assert deliverable_snapshot() == before
    d.refresh_from_db()
    assert f'name="version" value="{d.version}"' in html


def test_bad_input_is_a_refusal_not_an_error(client, work):
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:move", args=[work.deliverable.pk]),
        {"version": "x", "to_status": "nowhere"},
    )
    assert response.status_code == 422


def test_archived_project_board_is_read_only(client, work):
    from roles.services import project_archive

    project = work.world.project
    project_archive(project=project, actor=work.world.people["manager"], version=project.version)
    client.force_login(work.world.people["manager"])
    html = client.get(_board_url(work)).content.decode()
    assert f'id="card-{work.deliverable.pk}"' in html
    assert '<form method="post" action="/deliverables/' not in html


# --- list or board, remembered -----------------------------------------------------------


def test_my_work_is_the_list_until_the_board_is_chosen_and_then_stays_a_board(client, work):
    member = work.world.people["member"]
    client.force_login(member)
    assert 'id="board"' not in client.get(reverse("deliverables:my_work")).content.decode()
    response = client.post(reverse("deliverables:work_view"), {"view": "board"})
    assert response["Location"] == reverse("deliverables:my_work")
    assert ReminderPreference.objects.get(user=member).work_view == WorkView.BOARD
    # Another browser: the choice is the person's, not the session's.
    client.logout()
    client.force_login(member)
    html = client.get(reverse("deliverables:my_work")).content.decode()
    assert 'id="board"' in html and f'id="card-{work.deliverable.pk}"' in html
    assert f'id="card-{work.colleagues.pk}"' not in html  # not theirs
    client.post(reverse("deliverables:work_view"), {"view": "list"})
    assert 'id="board"' not in client.get(reverse("deliverables:my_work")).content.decode()


def test_choosing_on_a_project_goes_to_its_board_or_its_list(client, work):
    client.force_login(work.world.people["member"])
    project = work.world.project
    response = client.post(
        reverse("deliverables:work_view"), {"view": "board", "project": project.pk}
    )
    assert response["Location"] == _board_url(work)
    response = client.post(
        reverse("deliverables:work_view"), {"view": "list", "project": project.pk}
    )
    assert response["Location"] == reverse("deliverables:list") + f"?project={project.pk}"
    list_page = client.get(response["Location"]).content.decode()
    assert reverse("deliverables:work_view") in list_page  # the list offers the board back


def test_an_unknown_view_is_refused_and_nothing_kept(client, work):
    member = work.world.people["member"]
    client.force_login(member)
    response = client.post(reverse("deliverables:work_view"), {"view": "gantt"})
    assert response.status_code == 302
    assert not ReminderPreference.objects.filter(user=member).exists()


def test_remembering_the_same_view_writes_nothing(work):
    member = work.world.people["member"]
    work_view_remember(user=member, view=WorkView.LIST)
    assert not ReminderPreference.objects.filter(user=member).exists()
    work_view_remember(user=member, view=WorkView.BOARD)
    version = ReminderPreference.objects.get(user=member).version
    work_view_remember(user=member, view=WorkView.BOARD)
    assert ReminderPreference.objects.get(user=member).version == version


def test_a_full_column_draws_its_first_cards_and_links_to_the_rest(client, work, monkeypatch):
    from deliverables import selectors

    monkeypatch.setattr(selectors, "BOARD_COLUMN_LIMIT", 1)
    project = work.world.project
    waiting = Deliverable.objects.filter(project=project, status="not_started").count()
    assert waiting > 1
    client.force_login(work.world.people["manager"])
    html = client.get(_board_url(work)).content.decode()
    column = html[html.index('class="board-column" data-status="not_started"') :]
    column = column[: column.index("</section>")]
    assert column.count('class="card board-card') == 1
    assert f'<span class="small">{waiting}</span>' in column  # the column's full count
    assert f"See all {waiting} deliverables in Not started" in column
    assert f"{reverse('deliverables:list')}?project={project.pk}&amp;status=not_started" in column


def test_the_reason_box_is_drawn_once_a_move_is_refused(client, work):
    client.force_login(work.world.people["member"])
    html = client.get(_board_url(work)).content.decode()
    card = html[html.index(f'id="card-{work.deliverable.pk}"') :]
    card = card[: card.index("</li>")]
    assert 'value="blocked" data-asks-reason' in card  # offered...
    assert f'id="reason-{work.deliverable.pk}"' not in card  # ...its box drawn when refused
    html = _move(client, work.deliverable, "blocked", htmx=True).content.decode()
    assert f'id="reason-{work.deliverable.pk}"' in html


def test_the_card_just_moved_is_drawn_even_past_its_columns_limit(work, monkeypatch):
    from django.utils import timezone

    from deliverables import selectors

    monkeypatch.setattr(selectors, "BOARD_COLUMN_LIMIT", 1)
    manager, project = work.world.people["manager"], work.world.project
    today = timezone.localdate()

    def drawn(**keep):
        board = selectors.project_board(user=manager, project=project, today=today, **keep)
        column = next(c for c in board.columns if c.status == "not_started")
        return [card.item.pk for card in column.cards], column.count

    (first,), count = drawn()
    assert count > 1
    other = Deliverable.objects.filter(project=project, status="not_started").exclude(pk=first)
    hidden = other.first().pk
    assert sorted(drawn(keep=hidden)[0]) == sorted([first, hidden])
