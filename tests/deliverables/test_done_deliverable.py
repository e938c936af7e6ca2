"""A done deliverable's checklist and type are what was approved: the pages draw them
as fixed (with a note to reopen) and the server refuses a forged change."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.services import checklist_update, deliverable_update
from tests.deliverables.conftest import deliverable_snapshot
from tests.factories import deliverable_type
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

REOPEN_NOTE = "Reopen it to change its checklist"


def _done(deliverable: Deliverable) -> Deliverable:
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.DONE)
    deliverable.refresh_from_db()
    return deliverable


def _enabled_inputs(html: str, name_start: str) -> list[str]:
    """The checklist's controls a person could change (not disabled)."""
    tags = re.findall(r"<(?:input|textarea|select)\b[^>]*>", html)
    return [
        tag
        for tag in tags
        if f'name="{name_start}' in tag and not re.search(r"\sdisabled(\s|>|=)", tag)
    ]


def test_deliverable_locks_its_checklist_and_type_only_when_done(work):
    deliverable = work.deliverable
    assert not deliverable.checklist_locked
    assert _done(deliverable).checklist_locked


@pytest.mark.parametrize("persona", ["manager", "member"])
def test_a_done_deliverables_checklist_is_drawn_read_only_with_a_note_to_reopen(
    client, work, persona
):
    deliverable = work.deliverable
    text_item = deliverable.checklist_items.filter(answer_kind="text").first()
    text_item.answer = "Approved answer"
    text_item.save()
    _done(deliverable)
    client.force_login(work.world.people[persona])
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert "Save checklist" not in page
    assert _enabled_inputs(page, "item_") == []
    assert "Approved answer" in page  # the answer, as text
    assert REOPEN_NOTE in page
    # The way to reopen is on the page for them.
    assert 'name="to_status" value="in_progress"' in page


def test_the_reopen_note_is_only_for_those_who_may_reopen(client, work):
    _done(work.deliverable)
    client.force_login(work.world.people["colleague"])
    page = client.get(reverse("deliverables:detail", args=[work.deliverable.pk])).content.decode()
    assert REOPEN_NOTE not in page


def test_an_open_deliverables_checklist_stays_editable(client, work):
    client.force_login(work.world.people["member"])
    page = client.get(reverse("deliverables:detail", args=[work.deliverable.pk])).content.decode()
    assert "Save checklist" in page
    assert _enabled_inputs(page, "item_")
    assert REOPEN_NOTE not in page


@pytest.mark.parametrize("persona", ["manager", "member"])
def test_a_forged_checklist_save_on_a_done_deliverable_is_refused(client, work, persona):
    deliverable = _done(work.deliverable)
    item = deliverable.checklist_items.filter(answer_kind="tick").first()
    client.force_login(work.world.people[persona])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:checklist", args=[deliverable.pk]),
        {"version": deliverable.version, f"item_{item.pk}": "on"},
    )
    assert response.status_code == 422
    assert "Reopen it before changing" in response.content.decode()
    assert deliverable_snapshot() == before


def test_the_edit_form_of_a_done_deliverable_shows_the_type_as_fixed(client, work):
    deliverable = _done(work.deliverable)
    client.force_login(work.world.people["manager"])
    url = reverse("deliverables:edit", args=[deliverable.pk])
    page = client.get(url).content.decode()
    (type_select,) = re.findall(r'<select\b[^>]*name="type"[^>]*>', page)
    assert re.search(r"\sdisabled(\s|>|=)", type_select)
    assert REOPEN_NOTE in page
    assert "Yes, change the type" not in page
    # What the page draws saves: the other fields still change, the type stays.
    data = form_data(page)
    data["title"] = ["Final churn report"]
    response = client.post(url, data)
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.title == "Final churn report"
    assert deliverable.type.slug == "analysis-report"


def test_the_edit_form_of_an_open_deliverable_lets_the_type_change(client, work):
    client.force_login(work.world.people["manager"])
    page = client.get(reverse("deliverables:edit", args=[work.deliverable.pk])).content.decode()
    (type_select,) = re.findall(r'<select\b[^>]*name="type"[^>]*>', page)
    assert not re.search(r"\sdisabled(\s|>|=)", type_select)
    assert REOPEN_NOTE not in page


def test_a_forged_type_change_on_a_done_deliverable_is_refused(client, work):
    deliverable = _done(work.deliverable)
    client.force_login(work.world.people["manager"])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:edit", args=[deliverable.pk]),
        {
            "version": deliverable.version,
            "title": "Changed title",
            "type": deliverable_type("prd").pk,
            "owner": deliverable.owner_id,
            "confirm_type_change": "on",
        },
    )
    assert response.status_code == 422
    assert "Reopen it before changing" in response.content.decode()
    assert deliverable_snapshot() == before
    deliverable.refresh_from_db()
    assert deliverable.type.slug == "analysis-report"


def test_the_services_refuse_changes_to_a_done_deliverables_checklist_and_type(work):
    deliverable = _done(work.deliverable)
    manager = work.world.people["manager"]
    before = deliverable_snapshot()
    with pytest.raises(ValidationError) as refused:
        deliverable_update(
            deliverable=deliverable,
            actor=manager,
            version=None,
            title=deliverable.title,
            owner=deliverable.owner,
            due_date=deliverable.due_date,
            type=deliverable_type("prd"),
        )
    assert refused.value.code == "done"
    with pytest.raises(ValidationError) as refused:
        checklist_update(deliverable=deliverable, actor=manager, version=None, answers={})
    assert refused.value.code == "done"
    assert deliverable_snapshot() == before
