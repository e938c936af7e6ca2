"""Below its type's required score, done is refused from every path (page, board,
inline status, API, admin) unless a manager's reason records a waiver naming the
missing items; the waiver shows on the deliverable and in its history."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliverables.models import DeliverableEvent, EventKind
from deliverables.readiness.models import Mark, RubricWaiver
from deliverables.services import deliverable_transition
from tests.readiness.conftest import mark_all

pytestmark = pytest.mark.django_db


def _in_review(scored):
    d = scored.deliverable
    for item in d.checklist_items.all():  # the checklist is not what is tested here
        item.checked, item.answer, item.link = True, "Answer", "https://e.example.com/x"
        item.save()
    for status in ("in_progress", "in_review"):
        d = deliverable_transition(
            deliverable=d, actor=scored.world.people["member"], to_status=status, version=None
        )
    d.refresh_from_db()
    scored.deliverable = d
    return d


def test_the_service_refuses_done_below_the_score(scored):
    d = _in_review(scored)
    with pytest.raises(ValidationError) as refused:
        deliverable_transition(
            deliverable=d, actor=scored.world.people["manager"], to_status="done", version=None
        )
    assert refused.value.code == "readiness_below"
    d.refresh_from_db()
    assert d.status == "in_review" and not RubricWaiver.objects.exists()


def test_enough_score_needs_no_waiver(scored):
    d = _in_review(scored)
    mark_all(scored, Mark.AUTOMATED, per_section=2)  # 2.0 everywhere: what is needed
    deliverable_transition(
        deliverable=d, actor=scored.world.people["manager"], to_status="done", version=None
    )
    d.refresh_from_db()
    assert d.status == "done" and not RubricWaiver.objects.exists()


def test_a_waiver_names_the_missing_items_and_shows(scored, client):
    d = _in_review(scored)
    mark_all(scored, Mark.AUTOMATED, per_section=1)
    deliverable_transition(
        deliverable=d,
        actor=scored.world.people["manager"],
        to_status="done",
        version=None,
        override_reason="Pilot for one region; monitoring follows next sprint.",
    )
    waiver = RubricWaiver.objects.get()
    assert waiver.score == 1 and waiver.required_score == 2
    assert {"section": "Monitoring", "item": waiver.missing[-1]["item"], "mark": "not_done"} in (
        waiver.missing
    )
    assert all(entry["mark"] != Mark.AUTOMATED for entry in waiver.missing)
    event = DeliverableEvent.objects.get(kind=EventKind.RUBRIC_WAIVER)
    assert "Pilot for one region" in event.display_after and "Data: " in event.display_after
    assert f"and {len(waiver.missing) - 3} more" in event.display_after  # the page names all
    client.force_login(scored.world.people["member"])
    page = client.get(reverse("deliverables:detail", args=[d.pk])).content.decode()
    assert 'id="readiness-waiver"' in page and "Pilot for one region" in page
    assert "waived the readiness score" in page  # the history


def test_page_asks_for_a_waiver_and_refuses_without_one(scored, client):
    d = _in_review(scored)
    client.force_login(scored.world.people["manager"])
    url = reverse("deliverables:detail", args=[d.pk])
    page = client.get(url).content.decode()
    assert "record a waiver" in page and "Readiness score 0.0 of 2.0 needed" in page
    refused = client.post(url, {"form": "status", "version": d.version, "to_status": "done"})
    assert refused.status_code == 422
    assert "readiness score is 0.0" in refused.content.decode()
    d.refresh_from_db()
    assert d.status == "in_review"
    done = client.post(
        url,
        {"form": "status", "version": d.version, "to_status": "done", "override_reason": "Ok."},
    )
    assert done.status_code == 302
    assert RubricWaiver.objects.get().reason == "Ok."


def test_board_refuses_and_lists_what_is_missing(scored, client):
    d = _in_review(scored)
    client.force_login(scored.world.people["manager"])
    refused = client.post(
        reverse("deliverables:move", args=[d.pk]),
        {"version": d.version, "to_status": "done", "board": "project"},
        HTTP_HX_REQUEST="true",
    )
    body = refused.content.decode()
    assert "readiness score is 0.0" in body and "Readiness score 0.0 of 2.0 needed" in body
    d.refresh_from_db()
    assert d.status == "in_review"
    client.post(
        reverse("deliverables:move", args=[d.pk]),
        {"version": d.version, "to_status": "done", "board": "project", "override_reason": "Ok"},
        HTTP_HX_REQUEST="true",
    )
    d.refresh_from_db()
    assert d.status == "done" and RubricWaiver.objects.count() == 1


def test_inline_status_refuses_without_a_waiver(scored, client):
    d = _in_review(scored)
    client.force_login(scored.world.people["manager"])
    url = reverse("deliverables:inline", args=[d.pk])
    refused = client.post(
        url, {"version": d.version, "field": "status", "to_status": "done"}, HTTP_HX_REQUEST="true"
    )
    assert "readiness score is 0.0" in refused.content.decode()
    assert 'name="override_reason"' in refused.content.decode()
    d.refresh_from_db()
    assert d.status == "in_review"


def test_api_refuses_with_the_missing_items(scored, client):
    d = _in_review(scored)
    client.force_login(scored.world.people["manager"])
    url = f"/api/v1/deliverables/{d.pk}/transition/"
    refused = client.post(url, {"status": "done"}, content_type="application/json")
    assert refused.status_code == 400, refused.content
    body = refused.json()
    assert body["code"] == "readiness_below" and body["missing_readiness"]
    d.refresh_from_db()
    assert d.status == "in_review"
    done = client.post(
        url, {"status": "done", "override_reason": "Ok"}, content_type="application/json"
    )
    assert done.status_code == 200, done.content
    assert RubricWaiver.objects.count() == 1


def test_admin_refuses_without_a_waiver(scored, client):
    d = _in_review(scored)
    admin = scored.world.people["admin"]
    client.force_login(admin)
    url = reverse("admin:deliverables_deliverable_change", args=[d.pk])
    form = {
        "version": d.version,
        "project": d.project_id,
        "type": d.type_id,
        "title": "",
        "description": "",
        "owner": d.owner_id,
        "due_date": "",
        "status": "done",
        "blocked_reason": "",
        "cancelled_reason": "",
        "done_override_reason": "",
    }
    response = client.post(url, form)
    assert response.status_code == 200  # drawn again with the refusal
    assert "readiness score is 0.0" in response.content.decode()
    d.refresh_from_db()
    assert d.status == "in_review" and not RubricWaiver.objects.exists()


def test_the_mark_that_reaches_the_score_redraws_the_done_action(scored, client):
    """The page's done action follows the score as marks are saved in place: the
    waiver box goes when the last missing mark lands, without a reload."""
    d = _in_review(scored)
    mark_all(scored, Mark.AUTOMATED, per_section=2)
    last = scored.item(section=0, n=1)
    from deliverables.readiness.services import rubric_mark_save

    rubric_mark_save(  # one item short of the score: the waiver box is drawn
        deliverable=d, item=last, actor=scored.world.people["member"], mark="not_done", version=None
    )
    client.force_login(scored.world.people["manager"])
    page = client.get(reverse("deliverables:detail", args=[d.pk])).content.decode()
    assert 'id="done-action"' in page and "record a waiver" in page
    url = reverse("readiness:rubric_mark", args=[d.pk, last.pk])
    version = last.marks.get(deliverable=d).version
    saved = client.post(
        url,
        {
            f"item-{last.pk}-version": version,
            f"item-{last.pk}-mark": "automated",
            f"item-{last.pk}-evidence_url": "https://ci.example.com/9",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert '<div id="done-action" hx-swap-oob="true">' in saved
    done_action = saved.split('<div id="done-action"', 1)[1]
    assert "record a waiver" not in done_action and 'value="done"' in done_action
    # A member cannot mark done: nothing of the done action comes back to them.
    client.force_login(scored.world.people["member"])
    again = client.post(
        url,
        {
            f"item-{last.pk}-version": version + 1,
            f"item-{last.pk}-mark": "manual",
            f"item-{last.pk}-evidence_note": "checked by hand",
        },
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Saved" in again and 'id="done-action"' not in again
