"""Every allowed and forbidden status move, checklist gating, and the override."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from deliverables import workflow
from deliverables.models import AnswerKind, DeliverableEvent, DeliverableStatus, EventKind
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_transition

pytestmark = pytest.mark.django_db

S = DeliverableStatus
ALLOWED = {
    (S.NOT_STARTED, S.IN_PROGRESS),
    (S.NOT_STARTED, S.BLOCKED),
    (S.IN_PROGRESS, S.IN_REVIEW),
    (S.IN_PROGRESS, S.BLOCKED),
    (S.IN_REVIEW, S.DONE),
    (S.IN_REVIEW, S.IN_PROGRESS),
    (S.IN_REVIEW, S.BLOCKED),
    (S.BLOCKED, S.IN_PROGRESS),
    (S.DONE, S.IN_PROGRESS),
    # Cancelling from every status but done, and restoring to not started.
    (S.NOT_STARTED, S.CANCELLED),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.IN_REVIEW, S.CANCELLED),
    (S.BLOCKED, S.CANCELLED),
    (S.CANCELLED, S.NOT_STARTED),
}
REASONS = {S.BLOCKED: "Waiting for data.", S.CANCELLED: "Out of scope now."}


def _complete_checklist(deliverable, actor):
    answers = {}
    for item in deliverable.checklist_items.all():
        answers[item.pk] = ChecklistAnswer(
            checked=item.answer_kind == AnswerKind.TICK,
            answer="Written." if item.answer_kind == AnswerKind.TEXT else "",
            link="https://example.com/x" if item.answer_kind == AnswerKind.LINK else "",
        )
    checklist_update(deliverable=deliverable, actor=actor, version=None, answers=answers)


def _put_in(deliverable, status):
    """Set a status directly, as the database would hold it."""
    deliverable.status = status
    deliverable.blocked_reason = "Waiting." if status == S.BLOCKED else ""
    deliverable.cancelled_reason = "Dropped." if status == S.CANCELLED else ""
    deliverable.save()


def test_the_workflow_table_is_what_the_product_promises():
    table = {(a, b) for a, targets in workflow.TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S.values, S.values)))
def test_every_move(work, current, target):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    _complete_checklist(deliverable, manager)
    _put_in(deliverable, current)
    before_events = DeliverableEvent.objects.count()
    kwargs = {"reason": REASONS[target]} if target in REASONS else {}
    if (current, target) in ALLOWED:
        deliverable_transition(
            deliverable=deliverable, actor=manager, to_status=target, version=None, **kwargs
        )
        deliverable.refresh_from_db()
        assert deliverable.status == target
        event = DeliverableEvent.objects.filter(kind=EventKind.STATUS).first()
        assert (event.payload["before"]["status"], event.payload["after"]["status"]) == (
            current,
            target,
        )
    else:
        with pytest.raises(ValidationError, match="cannot move"):
            deliverable_transition(
                deliverable=deliverable, actor=manager, to_status=target, version=None, **kwargs
            )
        deliverable.refresh_from_db()
        assert deliverable.status == current
        assert DeliverableEvent.objects.count() == before_events


def test_owner_cannot_mark_done_but_a_manager_can(work):
    deliverable = work.deliverable
    _complete_checklist(deliverable, work.world.people["member"])
    _put_in(deliverable, S.IN_REVIEW)
    with pytest.raises(ValidationError, match="Only the project's managers"):
        deliverable_transition(
            deliverable=deliverable,
            actor=work.world.people["member"],
            to_status=S.DONE,
            version=None,
        )
    deliverable_transition(
        deliverable=deliverable, actor=work.world.people["manager"], to_status=S.DONE, version=None
    )
    deliverable.refresh_from_db()
    assert deliverable.status == S.DONE


def test_done_needs_every_required_item(work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    _put_in(deliverable, S.IN_REVIEW)
    required = deliverable.checklist_items.filter(required=True).count()
    with pytest.raises(
        ValidationError, match=f"{required} required checklist items are still open"
    ):
        deliverable_transition(
            deliverable=deliverable, actor=manager, to_status=S.DONE, version=None
        )
    deliverable.refresh_from_db()
    assert deliverable.status == S.IN_REVIEW


def test_optional_items_do_not_block_done(work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    checklist_update(
        deliverable=deliverable,
        actor=manager,
        version=None,
        answers={
            item.pk: ChecklistAnswer(checked=True, answer="Yes.", link="https://example.com/r")
            for item in deliverable.checklist_items.filter(required=True)
        },
    )
    assert deliverable.checklist_items.filter(required=False).exists()
    _put_in(deliverable, S.IN_REVIEW)
    deliverable_transition(deliverable=deliverable, actor=manager, to_status=S.DONE, version=None)


def test_manager_override_is_recorded_and_cleared_on_reopen(work):
    deliverable, manager = work.deliverable, work.world.people["manager"]
    _put_in(deliverable, S.IN_REVIEW)
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=S.DONE,
        version=None,
        override_reason="Shipped for the board meeting; report polish follows.",
    )
    deliverable.refresh_from_db()
    assert deliverable.status == S.DONE
    assert deliverable.done_override_reason.startswith("Shipped")
    assert DeliverableEvent.objects.filter(kind=EventKind.DONE_OVERRIDE, actor=manager).exists()

    deliverable_transition(
        deliverable=deliverable, actor=manager, to_status=S.IN_PROGRESS, version=None
    )
    deliverable.refresh_from_db()
    assert deliverable.done_override_reason == ""


def test_blocking_needs_a_reason_and_unblocking_clears_it(work):
    deliverable, member = work.deliverable, work.world.people["member"]
    with pytest.raises(ValidationError, match="Say why"):
        deliverable_transition(
            deliverable=deliverable, actor=member, to_status=S.BLOCKED, version=None, reason="  "
        )
    deliverable_transition(
        deliverable=deliverable,
        actor=member,
        to_status=S.BLOCKED,
        version=None,
        reason="No GPU quota.",
    )
    deliverable.refresh_from_db()
    assert deliverable.blocked_reason == "No GPU quota."
    deliverable_transition(
        deliverable=deliverable, actor=member, to_status=S.IN_PROGRESS, version=None
    )
    deliverable.refresh_from_db()
    assert deliverable.blocked_reason == ""


def test_a_stale_version_is_refused(work):
    deliverable, member = work.deliverable, work.world.people["member"]
    version = deliverable.version
    deliverable_transition(
        deliverable=deliverable, actor=member, to_status=S.IN_PROGRESS, version=version
    )
    deliverable.refresh_from_db()
    with pytest.raises(ValidationError, match="Someone else saved"):
        deliverable_transition(
            deliverable=deliverable, actor=member, to_status=S.IN_REVIEW, version=version
        )
    deliverable.refresh_from_db()
    assert deliverable.status == S.IN_PROGRESS


def test_a_deliverable_cannot_be_created_done(work):
    """Done is reached through the workflow, where the checklist gate and the
    manager's approval are; a new deliverable's checklist is all open."""
    from deliverables.models import Deliverable
    from deliverables.services import deliverable_create
    from tests.factories import deliverable_type

    before = Deliverable.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        deliverable_create(
            project=work.world.project,
            type=deliverable_type("prd"),
            title="PRD",
            owner=work.world.people["member"],
            status=S.DONE,
            actor=work.world.people["manager"],
        )
    assert excinfo.value.code == "done_on_create"
    assert Deliverable.objects.count() == before


def _action_buttons(page: str) -> dict[str, str]:
    """The status buttons of a deliverable page: target status -> label."""
    import re

    return dict(
        re.findall(r'<button type="submit" name="to_status" value="([a-z_]+)"[^>]*>([^<]*)</', page)
    )


def test_an_in_review_deliverable_names_the_move_back_for_who_makes_it(client, work):
    """Moving in-review work back to in progress: the owner takes it back from review,
    the manager (the reviewer) requests changes. Same move, worded for each."""
    from django.urls import reverse

    deliverable = work.deliverable
    _put_in(deliverable, S.IN_REVIEW)
    url = reverse("deliverables:detail", args=[deliverable.pk])
    client.force_login(work.world.people["member"])  # the owner
    owner_buttons = _action_buttons(client.get(url).content.decode())
    assert owner_buttons[S.IN_PROGRESS] == "Withdraw from review"
    assert "Request changes" not in owner_buttons.values()
    assert S.DONE not in owner_buttons
    client.force_login(work.world.people["manager"])
    manager_buttons = _action_buttons(client.get(url).content.decode())
    assert manager_buttons[S.IN_PROGRESS] == "Request changes"
    assert manager_buttons[S.DONE] == "Mark done"
    # In Japanese too, each its own wording.
    client.force_login(work.world.people["member"])
    page = client.get(url, headers={"accept-language": "ja"}).content.decode()
    client.force_login(work.world.people["manager"])
    manager_page = client.get(url, headers={"accept-language": "ja"}).content.decode()
    owner_ja = _action_buttons(page)[S.IN_PROGRESS]
    manager_ja = _action_buttons(manager_page)[S.IN_PROGRESS]
    assert owner_ja != manager_ja
    assert "Withdraw" not in owner_ja and "Request" not in manager_ja


def test_the_owners_move_back_from_review_returns_it_to_in_progress(client, work):
    from django.urls import reverse

    deliverable = work.deliverable
    _put_in(deliverable, S.IN_REVIEW)
    client.force_login(work.world.people["member"])
    response = client.post(
        reverse("deliverables:transition", args=[deliverable.pk]),
        {"version": deliverable.version, "to_status": S.IN_PROGRESS},
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.status == S.IN_PROGRESS
