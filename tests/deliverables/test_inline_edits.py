"""Inline edits on the deliverables list and My work: status (the owner and the
project's managers), owner and due date (the managers), changed in place through
the same services, rules and version checks; refusals drawn in the row."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from deliverables.models import Deliverable
from deliverables.services import deliverable_transition
from tests.deliverables.conftest import deliverable_snapshot

HTMX = {"HTTP_HX_REQUEST": "true"}


def _inline(client, deliverable, *, htmx=True, row="list", **data):
    return client.post(
        reverse("deliverables:inline", args=[deliverable.pk]),
        {"version": deliverable.version, "row": row, **data},
        **(HTMX if htmx else {}),
    )


def _row(html: str, pk: int) -> str:
    start = html.index(f'id="row-{pk}"')
    return html[start : html.index("</tr>", start)]


def test_list_rows_offer_what_the_reader_may_change(client, work):
    client.force_login(work.world.people["member"])
    html = client.get(reverse("deliverables:list")).content.decode()
    mine, theirs = _row(html, work.deliverable.pk), _row(html, work.colleagues.pk)
    assert 'name="to_status"' in mine and 'name="owner"' not in mine
    assert 'name="due_date"' not in mine  # the due date is the managers'
    assert "<form" not in theirs
    client.force_login(work.world.people["manager"])
    html = client.get(reverse("deliverables:list")).content.decode()
    theirs = _row(html, work.colleagues.pk)
    assert 'name="to_status"' in theirs and 'name="owner"' in theirs
    assert 'name="due_date"' in theirs
    # On a phone the row reads the date, with a link to where it is changed.
    edit = reverse("deliverables:edit", args=[work.colleagues.pk])
    assert '<span class="d-sm-none">' in theirs and f'href="{edit}"' in theirs
    assert f'href="{edit}"' not in mine  # a member's row has no such link


def test_owner_changes_status_in_place(client, work):
    client.force_login(work.world.people["member"])
    response = _inline(client, work.deliverable, field="status", to_status="in_progress")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<tr ") and f'id="row-{work.deliverable.pk}"' in html.split(">")[0]
    assert "Status is now In progress." in html
    work.deliverable.refresh_from_db()
    assert work.deliverable.status == "in_progress"


def test_blocked_in_a_row_asks_for_the_reason_next_to_the_status(client, work):
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    response = _inline(client, work.deliverable, field="status", to_status="blocked")
    html = response.content.decode()
    assert "Say why the deliverable is blocked." in html
    assert f'id="status-{work.deliverable.pk}-error"' in html
    assert f'id="reason-{work.deliverable.pk}"' in html
    assert deliverable_snapshot() == before
    _inline(client, work.deliverable, field="status", to_status="blocked", reason="No GPU quota")
    work.deliverable.refresh_from_db()
    assert work.deliverable.blocked_reason == "No GPU quota"


def test_done_in_a_row_names_the_open_items_and_takes_an_override(client, work):
    manager = work.world.people["manager"]
    d = work.deliverable
    for status in ("in_progress", "in_review"):
        d = deliverable_transition(
            deliverable=d, actor=manager, to_status=status, version=d.version
        )
    client.force_login(manager)
    html = _inline(client, d, field="status", to_status="done").content.decode()
    open_items = [i for i in d.checklist_items.all() if i.required and not i.is_complete]
    for item in open_items:
        assert item.display_text in html
    assert f'id="override-{d.pk}"' in html
    _inline(client, d, field="status", to_status="done", override_reason="Agreed in review.")
    d.refresh_from_db()
    assert d.status == "done"


def test_manager_changes_owner_and_due_date_in_place(client, work):
    manager = work.world.people["manager"]
    colleague = work.world.people["colleague"]
    client.force_login(manager)
    d = work.deliverable
    response = _inline(client, d, field="owner", owner=colleague.pk)
    assert response.status_code == 200 and "Saved." in response.content.decode()
    d.refresh_from_db()
    assert d.owner == colleague
    response = _inline(client, d, field="due_date", due_date="2026-09-30")
    d.refresh_from_db()
    assert d.due_date == date(2026, 9, 30) and d.owner == colleague  # the owner kept


def test_owner_outside_the_team_is_refused_in_the_row(client, work):
    client.force_login(work.world.people["manager"])
    before = deliverable_snapshot()
    response = _inline(
        client, work.deliverable, field="owner", owner=work.world.people["outsider"].pk
    )
    html = response.content.decode()
    assert "The owner must be a member of the project." in html
    assert f'id="owner-{work.deliverable.pk}-error"' in html
    assert deliverable_snapshot() == before


def test_a_bad_date_is_refused_in_the_row(client, work):
    client.force_login(work.world.people["manager"])
    before = deliverable_snapshot()
    html = _inline(client, work.deliverable, field="due_date", due_date="31/31/2026").content
    assert f'id="due-{work.deliverable.pk}-error"'.encode() in html
    assert deliverable_snapshot() == before


@pytest.mark.parametrize("field", ["owner", "due_date"])
def test_member_cannot_change_owner_or_due_date(client, work, field):
    client.force_login(work.world.people["member"])
    before = deliverable_snapshot()
    value = {"owner": work.world.people["colleague"].pk, "due_date": "2026-09-30"}[field]
    assert _inline(client, work.deliverable, field=field, **{field: value}).status_code == 403
    assert deliverable_snapshot() == before


def test_stale_row_says_so_and_saves_nothing(client, work):
    d = work.deliverable
    stale = Deliverable.objects.get(pk=d.pk)
    deliverable_transition(
        deliverable=d,
        actor=work.world.people["manager"],
        to_status="in_progress",
        version=d.version,
    )
    client.force_login(work.world.people["manager"])
    before = deliverable_snapshot()
    html = _inline(client, stale, field="due_date", due_date="2026-09-30").content.decode()
    assert "Someone else saved this deliverable" in html
    assert deliverable_snapshot() == before
    d.refresh_from_db()
    assert f'name="version" value="{d.version}"' in html  # the row drawn as it is now


def test_without_javascript_a_row_change_goes_back_to_the_list(client, work):
    client.force_login(work.world.people["member"])
    response = _inline(
        client, work.deliverable, htmx=False, field="status", to_status="in_progress"
    )
    assert response.status_code == 302 and response["Location"] == reverse("deliverables:list")
    response = _inline(
        client,
        Deliverable.objects.get(pk=work.deliverable.pk),
        htmx=False,
        row="mine",
        field="status",
        to_status="blocked",
    )
    assert response["Location"] == reverse("deliverables:my_work")
    page = client.get(response["Location"]).content.decode()
    assert "Say why the deliverable is blocked." in page


def test_my_work_rows_change_status_in_place(client, work):
    client.force_login(work.world.people["member"])
    html = client.get(reverse("deliverables:my_work")).content.decode()
    assert f'id="status-{work.deliverable.pk}"' in html
    response = _inline(
        client, work.deliverable, row="mine", field="status", to_status="in_progress"
    )
    assert response.content.decode().startswith(f'<li id="row-{work.deliverable.pk}"')


def test_a_row_saved_unchanged_writes_nothing(client, work):
    """No new version: someone else's form drawn before is not refused for nothing."""
    client.force_login(work.world.people["manager"])
    d = work.deliverable
    before = deliverable_snapshot()
    assert _inline(client, d, field="owner", owner=d.owner_id).status_code == 200
    assert _inline(client, d, field="due_date", due_date="").status_code == 200
    assert deliverable_snapshot() == before
