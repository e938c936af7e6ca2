"""The deliverable page as one flow: checklist items saved one by one (htmx),
status actions drawn for what the reader may do (a reason box only where one is
needed, errors once, next to their box), all at the deliverable's own address;
comments in markdown that their author may edit and delete, and `@username`
mentions told in the person's next digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliverables import reminders
from deliverables.mentions import mentioned_usernames
from deliverables.models import (
    CommentMention,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
)
from deliverables.services import (
    ChecklistAnswer,
    checklist_update,
    comment_add,
    comment_delete,
    comment_edit,
    comment_mentions_record,
    deliverable_transition,
)
from tests.factories import UserFactory
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _page(deliverable) -> str:
    return reverse("deliverables:detail", args=[deliverable.pk])


def _item_url(deliverable, item) -> str:
    return reverse("deliverables:checklist_item", args=[deliverable.pk, item.pk])


def _ticks(deliverable):
    return list(deliverable.checklist_items.filter(answer_kind="tick").order_by("position", "pk"))


# --- the checklist, item by item -------------------------------------------------------


def test_ticking_items_one_by_one_then_changing_status_keeps_every_tick(client, work):
    """What the browser does: each tick posts the checklist form to the item's
    address (htmx); the answer brings the page's versions up to date, so the status
    change made afterwards goes through and no tick is lost."""
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    page = client.get(_page(deliverable)).content.decode()
    checklist = form_data(page, form_id="checklist-form")
    status_form = form_data(page, form_id="status-form-in_progress")
    for item in _ticks(deliverable)[:3]:
        checklist[f"item_{item.pk}"] = ["on"]
        response = client.post(_item_url(deliverable, item), checklist, **HTMX)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Saved" in body
        # The swap: the versions of every form (htmx out of band), and this item's
        # "as drawn" value, so the next request goes with them.
        version = re.search(r'name="version" value="(\d+)" form="checklist-form"', body).group(1)
        assert re.search(rf'name="version" value="{version}" form="status-form-in_progress"', body)
        checklist["version"] = [version]
        checklist[f"initial-item_{item.pk}"] = ["True"]
        status_form["version"] = [version]
    response = client.post(_page(deliverable), {**status_form, "to_status": "in_progress"})
    assert response.status_code == 302 and response["Location"] == _page(deliverable)
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.IN_PROGRESS
    assert all(item.checked for item in _ticks(deliverable)[:3])


def _drawn_then_answered_meanwhile(client, work, answers) -> dict:
    """The member's checklist form as drawn; then the manager saves `answers`."""
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    drawn = form_data(client.get(_page(deliverable)).content.decode(), form_id="checklist-form")
    checklist_update(
        deliverable=deliverable,
        actor=work.world.people["manager"],
        version=deliverable.version,
        answers=answers,
    )
    return drawn


def test_two_people_answering_different_items_both_save(client, work):
    """The version checked for an item saved as it is answered is the item's own: a
    colleague's tick on another item meanwhile does not refuse this one."""
    deliverable = work.deliverable
    first, second = _ticks(deliverable)[:2]
    drawn = _drawn_then_answered_meanwhile(client, work, {first.pk: ChecklistAnswer(checked=True)})
    response = client.post(
        _item_url(deliverable, second), {**drawn, f"item_{second.pk}": "on"}, **HTMX
    )
    assert response.status_code == 200
    assert "Saved<" in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.checked and second.checked
    # The page's forms now carry the version both saves moved to.
    deliverable.refresh_from_db()
    assert f'value="{deliverable.version}" form="checklist-form"' in response.content.decode()


def test_an_item_answered_by_someone_else_meanwhile_is_refused_in_place(client, work):
    deliverable = work.deliverable
    item = deliverable.checklist_items.create(
        area="Review", text="What did the review decide?", answer_kind="text", position=99
    )
    drawn = _drawn_then_answered_meanwhile(
        client, work, {item.pk: ChecklistAnswer(answer="Ship it")}
    )
    response = client.post(
        _item_url(deliverable, item), {**drawn, f"item_{item.pk}": "Hold it"}, **HTMX
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers: refused, drawn in place
    body = response.content.decode()
    assert "Someone else answered this item" in body and "Saved<" not in body
    assert "Hold it" in body or "Ship it" in body
    item.refresh_from_db()
    assert item.answer == "Ship it"


def test_an_item_already_holding_the_answer_is_not_refused(client, work):
    deliverable = work.deliverable
    item = _ticks(deliverable)[0]
    drawn = _drawn_then_answered_meanwhile(client, work, {item.pk: ChecklistAnswer(checked=True)})
    response = client.post(_item_url(deliverable, item), {**drawn, f"item_{item.pk}": "on"}, **HTMX)
    assert response.status_code == 200 and "Someone else" not in response.content.decode()
    item.refresh_from_db()
    assert item.checked and item.answered_by == work.world.people["manager"]


def test_an_item_of_a_deliverable_marked_done_meanwhile_is_refused(work):
    deliverable = work.deliverable
    item = _ticks(deliverable)[0]
    stale = Deliverable.objects.get(pk=deliverable.pk)  # read before it was marked done
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.DONE)
    with pytest.raises(ValidationError) as refused:
        checklist_update(
            deliverable=stale,
            actor=work.world.people["member"],
            version=None,
            answers={item.pk: ChecklistAnswer(checked=True)},
            drawn={item.pk: ChecklistAnswer(checked=False)},
        )
    assert refused.value.code == "done"
    item.refresh_from_db()
    assert not item.checked


def test_an_item_saved_without_htmx_goes_back_to_the_page(client, work):
    deliverable = work.deliverable
    item = _ticks(deliverable)[0]
    client.force_login(work.world.people["member"])
    response = client.post(
        _item_url(deliverable, item), {"version": deliverable.version, f"item_{item.pk}": "on"}
    )
    assert response.status_code == 302 and response["Location"].startswith(_page(deliverable))
    item.refresh_from_db()
    assert item.checked


def test_an_item_of_another_deliverable_is_not_found(client, work):
    item = _ticks(work.colleagues)[0]
    client.force_login(work.world.people["member"])
    response = client.post(
        _item_url(work.deliverable, item), {"version": 1, f"item_{item.pk}": "on"}, **HTMX
    )
    assert response.status_code == 404


# --- status actions ----------------------------------------------------------------------


def _in_review(work):
    deliverable = work.deliverable
    for target in ("in_progress", "in_review"):
        deliverable_transition(
            deliverable=deliverable,
            actor=work.world.people["manager"],
            to_status=target,
            version=None,
        )
    return deliverable


def test_the_owner_sees_only_the_actions_they_may_take(client, work):
    deliverable = _in_review(work)
    client.force_login(work.world.people["member"])
    page = client.get(_page(deliverable)).content.decode()
    assert "Mark done" not in page and "Cancel deliverable" not in page
    assert "Withdraw from review" in page and "Mark blocked" in page
    client.force_login(work.world.people["manager"])
    page = client.get(_page(deliverable)).content.decode()
    assert "Mark done" in page and "Request changes" in page


def test_the_reason_box_belongs_to_the_action_that_needs_it(client, work):
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    page = client.get(_page(deliverable)).content.decode()
    assert "reason" in form_data(page, form_id="status-form-blocked")
    assert "reason" not in form_data(page, form_id="status-form-in_progress")
    assert page.count('name="reason"') == 1


def test_blocking_without_a_reason_says_so_once_next_to_the_box(client, work):
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    page = client.get(_page(deliverable)).content.decode()
    data = form_data(page, form_id="status-form-blocked")
    response = client.post(_page(deliverable), {**data, "to_status": "blocked"})  # the button
    assert response.status_code == 422
    body = response.content.decode()
    assert body.count("Say why the deliverable is blocked.") == 1
    assert 'id="id_reason_error"' in body
    assert '<details class="status-action" open>' in body  # the refused action stays open
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.NOT_STARTED


def test_done_with_required_items_open_names_them_next_to_the_override(client, work):
    deliverable = _in_review(work)
    client.force_login(work.world.people["manager"])
    page = client.get(_page(deliverable)).content.decode()
    assert "Still open:" in page
    data = form_data(page, form_id="status-form-done")
    assert "override_reason" in data
    response = client.post(_page(deliverable), {**data, "to_status": "done"})  # the button
    assert response.status_code == 422
    body = response.content.decode()
    assert body.count("required checklist items are still open") == 1
    assert 'id="id_override_reason_error"' in body
    # The count is said once: the box's label no longer repeats it.
    assert "required items are still open" not in body
    assert "Reason to mark done with required items open" in body


def test_a_refused_stale_move_is_shown_at_the_deliverables_address(client, work):
    deliverable = work.deliverable
    client.force_login(work.world.people["member"])
    data = form_data(
        client.get(_page(deliverable)).content.decode(), form_id="status-form-in_progress"
    )
    deliverable_transition(
        deliverable=deliverable, actor=work.world.people["manager"], to_status="blocked",
        version=None, reason="Waiting",
    )  # fmt: skip
    response = client.post(_page(deliverable), {**data, "to_status": "in_progress"})
    assert response.status_code == 409
    assert response.content.decode().count("Someone else saved this deliverable") == 1


def test_an_unknown_page_form_is_a_bad_request(client, work):
    client.force_login(work.world.people["member"])
    response = client.post(_page(work.deliverable), {"form": "nonsense"})
    assert response.status_code == 400


# --- comments ------------------------------------------------------------------------------


def test_comments_render_sanitised_markdown(client, work):
    comment_add(
        deliverable=work.deliverable,
        actor=work.world.people["member"],
        body="**Ready** <script>alert(1)</script> [x](javascript:alert(1))",
    )
    client.force_login(work.world.people["colleague"])
    page = client.get(_page(work.deliverable)).content.decode()
    assert "<strong>Ready</strong>" in page
    assert "<script>alert(1)" not in page and 'href="javascript:' not in page


def test_the_author_edits_a_comment_and_the_old_text_leaves_the_history(client, work):
    member = work.world.people["member"]
    comment = comment_add(deliverable=work.deliverable, actor=member, body="Draft is up.")
    client.force_login(member)
    page = client.get(_page(work.deliverable) + f"?edit_comment={comment.pk}").content.decode()
    data = form_data(page, action=_page(work.deliverable) + f"#comment-{comment.pk}")
    assert data["form"] == ["comment_edit"]
    response = client.post(_page(work.deliverable), {**data, "body": "Second draft is up."})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Second draft is up." and comment.edited_at is not None
    event = DeliverableEvent.objects.filter(kind=EventKind.COMMENT_EDITED).get()
    assert event.display_before == "" and event.display_after == "Second draft is up."
    page = client.get(_page(work.deliverable)).content.decode()
    assert "edited" in page and "Draft is up." not in page


def test_someone_elses_comment_offers_no_edit_and_cannot_be_changed(client, work):
    comment = comment_add(
        deliverable=work.deliverable, actor=work.world.people["member"], body="Mine."
    )
    manager = work.world.people["manager"]
    client.force_login(manager)
    page = client.get(_page(work.deliverable) + f"?edit_comment={comment.pk}").content.decode()
    assert "comment_edit" not in page and "comment_delete" not in page
    with pytest.raises(Exception, match="Only the person who wrote"):
        comment_edit(comment=comment, actor=manager, version=comment.version, body="Theirs.")


def test_a_stale_comment_edit_is_refused_with_the_text_kept(client, work):
    member = work.world.people["member"]
    comment = comment_add(deliverable=work.deliverable, actor=member, body="One.")
    client.force_login(member)
    page = client.get(_page(work.deliverable) + f"?edit_comment={comment.pk}").content.decode()
    data = form_data(page, action=_page(work.deliverable) + f"#comment-{comment.pk}")
    comment_edit(comment=comment, actor=member, version=comment.version, body="Two.")
    response = client.post(_page(work.deliverable), {**data, "body": "Three."})
    assert response.status_code == 409
    body = response.content.decode()
    assert "This comment was changed elsewhere" in body and "Three." in body
    comment.refresh_from_db()
    assert comment.body == "Two."


def test_a_deleted_comment_shows_a_placeholder_and_the_history_says_so(client, work):
    member = work.world.people["member"]
    comment = comment_add(deliverable=work.deliverable, actor=member, body="Oops, wrong page.")
    client.force_login(member)
    response = client.post(
        _page(work.deliverable),
        {"form": "comment_delete", "comment": comment.pk, "version": comment.version},
    )
    assert response.status_code == 302
    page = client.get(_page(work.deliverable)).content.decode()
    assert "This comment was deleted." in page
    assert DeliverableComment.objects.get(pk=comment.pk).deleted_at is not None
    assert DeliverableEvent.objects.filter(kind=EventKind.COMMENT_DELETED).count() == 1
    comment.refresh_from_db()
    with pytest.raises(Exception, match="was deleted"):
        comment_edit(comment=comment, actor=member, version=None, body="Back.")


# --- mentions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@ann please look", ["ann"]),
        ("Thanks @Ann.", ["ann"]),
        ("mail ann@example.com", []),
        ("@ann and @bob.lee, also @ann", ["ann", "bob.lee"]),
        ("`@code`", ["code"]),
    ],
)
def test_mentioned_usernames(text, names):
    assert mentioned_usernames(text) == names


def test_mentions_reach_only_people_who_may_see_the_deliverable(work):
    people = work.world.people
    comment = comment_add(
        deliverable=work.deliverable,
        actor=people["member"],
        body="@colleague @outsider @member @other_manager @nobody please check",
    )
    mentioned = set(
        CommentMention.objects.filter(comment=comment).values_list("person__username", flat=True)
    )
    assert mentioned == {people["colleague"].username}
    # Edited, the mention is not recorded twice; a new name is added.
    comment_edit(
        comment=comment, actor=people["member"], version=comment.version,
        body=f"@colleague and @{people['manager'].username}",
    )  # fmt: skip
    assert CommentMention.objects.filter(comment=comment).count() == 2
    assert comment_mentions_record(comment=comment) == []


MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _sweep(now, capture):
    with capture(execute=True):
        return reminders.reminder_sweep(
            now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now)
        )


def test_a_mention_is_in_the_persons_next_digest_once(
    work, settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "UTC"
    colleague = work.world.people["colleague"]
    comment_add(
        deliverable=work.deliverable,
        actor=work.world.people["member"],
        body=f"@{colleague.username} could you review the **churn** numbers?",
    )
    _sweep(MONDAY_0930_UTC, django_capture_on_commit_callbacks)
    (message,) = [m for m in mail.outbox if m.to == [colleague.email]]
    assert "You were mentioned" in message.body
    assert "could you review the **churn** numbers?" in message.body
    assert f"/deliverables/{work.deliverable.pk}/#comment-" in message.body
    assert "1 mention of you" in message.subject
    mail.outbox.clear()
    _sweep(MONDAY_0930_UTC.replace(day=1, month=12), django_capture_on_commit_callbacks)
    assert not [m for m in mail.outbox if m.to == [colleague.email] and "mentioned" in m.body]


def test_a_deleted_comments_mention_is_not_sent(work, settings, django_capture_on_commit_callbacks):
    settings.TIME_ZONE = "UTC"
    member, colleague = work.world.people["member"], work.world.people["colleague"]
    comment = comment_add(
        deliverable=work.deliverable, actor=member, body=f"@{colleague.username} look"
    )
    comment_delete(comment=comment, actor=member, version=comment.version)
    _sweep(MONDAY_0930_UTC, django_capture_on_commit_callbacks)
    assert not [m for m in mail.outbox if m.to == [colleague.email] and "mentioned" in m.body]


def test_a_mention_of_someone_who_lost_access_is_dropped_at_send_time(
    work, settings, django_capture_on_commit_callbacks
):
    from roles.services import membership_add, membership_remove

    settings.TIME_ZONE = "UTC"
    colleague = UserFactory(username="visitor")
    membership = membership_add(project=work.world.project, user=colleague)
    comment_add(
        deliverable=work.deliverable, actor=work.world.people["member"], body="@visitor hello"
    )
    assert CommentMention.objects.filter(person=colleague).exists()
    membership_remove(membership=membership, actor=None, version=None)
    _sweep(MONDAY_0930_UTC, django_capture_on_commit_callbacks)
    assert not [m for m in mail.outbox if m.to == [colleague.email]]


def test_the_inbox_hook_lists_a_persons_mentions_they_may_still_see(work):
    from deliverables.selectors import person_mentions

    people = work.world.people
    kept = comment_add(deliverable=work.deliverable, actor=people["member"], body="@colleague a")
    gone = comment_add(deliverable=work.deliverable, actor=people["member"], body="@colleague b")
    comment_delete(comment=gone, actor=people["member"], version=gone.version)
    assert [m.comment_id for m in person_mentions(user=people["colleague"])] == [kept.pk]
    assert list(person_mentions(user=people["outsider"])) == []


def test_a_deleted_comments_text_is_gone_from_the_history_page_activity_and_api(client, work):
    """What someone takes back (a pasted secret) is readable nowhere afterwards."""
    member, colleague = work.world.people["member"], work.world.people["colleague"]
    secret = "the password is hunter2-SECRET"
    comment = comment_add(deliverable=work.deliverable, actor=member, body=secret)
    comment_edit(comment=comment, actor=member, version=comment.version, body=secret + " (sorry)")
    comment.refresh_from_db()
    comment_delete(comment=comment, actor=member, version=comment.version)
    client.force_login(colleague)
    for url in (
        _page(work.deliverable),
        reverse("roles:project_activity", args=[work.deliverable.project_id]),
        f"/api/v1/deliverables/{work.deliverable.pk}/history/",
        f"/api/v1/deliverables/{work.deliverable.pk}/comments/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "hunter2" not in response.content.decode(), url
    assert not DeliverableEvent.objects.filter(payload__icontains="hunter2").exists()
