"""Every deliverable URL x every persona: status code, and nothing changed when refused.

`member` owns `work.deliverable`; `colleague` is on the same project and owns
another one, so "own vs someone else's" is checked for both.
"""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from tests.deliverables.conftest import deliverable_snapshot

PERSONAS = ["anonymous", "outsider", "member", "colleague", "manager", "other_manager", "admin"]
LOGIN = "login"

EVERYONE = {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 200)}
READ = {
    "anonymous": LOGIN,
    "outsider": 404,
    "member": 200,
    "colleague": 200,
    "manager": 200,
    "other_manager": 404,
    "admin": 200,
}
# Updates by the owner, the project's managers and admins.
OWNER_POST = {**READ, "colleague": 403, "member": 302, "manager": 302, "admin": 302}
OWNER_GET = {**READ, "colleague": 403}
MANAGE_GET = {**READ, "member": 403, "colleague": 403}
MANAGERS_ONLY = {
    **dict.fromkeys(PERSONAS, 403),
    "anonymous": LOGIN,
    "manager": 200,
    "other_manager": 200,
    "admin": 200,
}
MANAGE_POST = {**MANAGE_GET, "manager": 302, "admin": 302}


# Editing and deleting a comment: its author only (here the owner, `member`).
COMMENT_AUTHOR = {**READ, "member": 302, "colleague": 403, "manager": 403, "admin": 403}


def _members_comment(work):
    from deliverables.services import comment_add

    d = work.deliverable
    return d.comments.filter(author=work.world.people["member"]).first() or comment_add(
        deliverable=d, actor=work.world.people["member"], body="First draft is up."
    )


def _urls(work):
    d = work.deliverable
    p = work.world.project
    item = d.checklist_items.filter(answer_kind="tick").first()
    comment = _members_comment(work)
    page = reverse("deliverables:detail", args=[d.pk])
    return {
        "list": ("get", reverse("deliverables:list"), None, EVERYONE),
        "export": ("get", reverse("deliverables:export"), None, EVERYONE),
        # The owner filter's whole list: everyone signed in, each seeing their own people.
        "owner_options": ("get", reverse("deliverables:owner_options"), None, EVERYONE),
        "my_work": ("get", reverse("deliverables:my_work"), None, EVERYONE),
        "dashboard": ("get", reverse("deliverables:portfolio_dashboard"), None, MANAGERS_ONLY),
        "dashboard_activity": (
            "get",
            reverse("deliverables:portfolio_activity"),
            None,
            MANAGERS_ONLY,
        ),
        "reminder_preferences": (
            "get",
            reverse("deliverables:reminder_preferences"),
            None,
            EVERYONE,
        ),
        "detail": ("get", reverse("deliverables:detail", args=[d.pk]), None, READ),
        "transition": (
            "post",
            reverse("deliverables:transition", args=[d.pk]),
            {"version": d.version, "to_status": "in_progress"},
            OWNER_POST,
        ),
        "checklist": (
            "post",
            reverse("deliverables:checklist", args=[d.pk]),
            {"version": d.version, f"item_{d.checklist_items.first().pk}": "on"},
            OWNER_POST,
        ),
        "checklist_item": (
            "post",
            reverse("deliverables:checklist_item", args=[d.pk, item.pk]),
            {"version": d.version, f"item_{item.pk}": "on"},
            OWNER_POST,
        ),
        # The page's own forms, posted to its address.
        "page_status": (
            "post",
            page,
            {"form": "status", "version": d.version, "to_status": "in_progress"},
            OWNER_POST,
        ),
        "page_checklist": (
            "post",
            page,
            {"form": "checklist", "version": d.version, f"item_{item.pk}": "on"},
            OWNER_POST,
        ),
        "page_link": (
            "post",
            page,
            {"form": "link", "kind": "repository", "url": "https://git.example.com/churn"},
            OWNER_POST,
        ),
        "page_comment": ("post", page, {"form": "comment", "body": "Looks good."}, OWNER_POST),
        "page_comment_edit": (
            "post",
            page,
            {
                "form": "comment_edit",
                "comment": comment.pk,
                "version": comment.version,
                "body": "Second draft is up.",
            },
            COMMENT_AUTHOR,
        ),
        "page_comment_delete": (
            "post",
            page,
            {"form": "comment_delete", "comment": comment.pk, "version": comment.version},
            COMMENT_AUTHOR,
        ),
        "cancel_form": ("get", reverse("deliverables:cancel", args=[d.pk]), None, MANAGE_GET),
        "cancel": (
            "post",
            reverse("deliverables:cancel", args=[d.pk]),
            {"version": d.version, "reason": "No longer needed."},
            MANAGE_POST,
        ),
        "edit_form": ("get", reverse("deliverables:edit", args=[d.pk]), None, MANAGE_GET),
        "edit": (
            "post",
            reverse("deliverables:edit", args=[d.pk]),
            {"version": d.version, "title": "Renamed", "type": d.type_id, "owner": d.owner_id},
            MANAGE_POST,
        ),
        "link_add": (
            "post",
            reverse("deliverables:link_add", args=[d.pk]),
            {"kind": "repository", "url": "https://git.example.com/churn"},
            OWNER_POST,
        ),
        "link_remove_confirm": (
            "get",
            reverse("deliverables:link_remove", args=[d.pk, work.link.pk]),
            None,
            OWNER_GET,
        ),
        "link_remove": (
            "post",
            reverse("deliverables:link_remove", args=[d.pk, work.link.pk]),
            {},
            OWNER_POST,
        ),
        "comment": (
            "post",
            reverse("deliverables:comment_add", args=[d.pk]),
            {"body": "Looks good."},
            OWNER_POST,
        ),
        "board": ("get", reverse("deliverables:project_board", args=[p.pk]), None, READ),
        "move": (
            "post",
            reverse("deliverables:move", args=[d.pk]),
            {"version": d.version, "to_status": "in_progress", "board": "project"},
            OWNER_POST,
        ),
        "inline_status": (
            "post",
            reverse("deliverables:inline", args=[d.pk]),
            {"version": d.version, "field": "status", "to_status": "in_progress"},
            OWNER_POST,
        ),
        "inline_owner": (
            "post",
            reverse("deliverables:inline", args=[d.pk]),
            {"version": d.version, "field": "owner", "owner": work.world.people["colleague"].pk},
            MANAGE_POST,
        ),
        "inline_due_date": (
            "post",
            reverse("deliverables:inline", args=[d.pk]),
            {"version": d.version, "field": "due_date", "due_date": "2026-09-30"},
            MANAGE_POST,
        ),
        # Every signed-in person keeps their own choice of list or board.
        "work_view": (
            "post",
            reverse("deliverables:work_view"),
            {"view": "board", "project": p.pk},
            {"anonymous": LOGIN, **dict.fromkeys(PERSONAS[1:], 302)},
        ),
        "plan_form": ("get", reverse("deliverables:plan", args=[p.pk]), None, MANAGE_GET),
        "plan": (
            "post",
            reverse("deliverables:plan", args=[p.pk]),
            {
                "version": p.version,
                "plan-TOTAL_FORMS": 1,
                "plan-INITIAL_FORMS": 1,
                "plan-0-include": "on",
                "plan-0-type": _type_pk("deployed-model"),
                "plan-0-title": "Deployed model",
            },
            MANAGE_POST,
        ),
        "add_form": ("get", reverse("deliverables:add", args=[p.pk]), None, MANAGE_GET),
        "add": (
            "post",
            reverse("deliverables:add", args=[p.pk]),
            {"type": _type_pk("other"), "title": "Vendor contract review"},
            MANAGE_POST,
        ),
    }


def _type_pk(slug):
    from deliverables.models import DeliverableType

    return DeliverableType.objects.get(slug=slug).pk


NAMES = [
    "list", "export", "owner_options", "my_work", "dashboard", "dashboard_activity",
    "reminder_preferences", "detail",
    "transition",
    "checklist", "checklist_item", "page_status", "page_checklist", "page_link", "page_comment",
    "page_comment_edit", "page_comment_delete", "cancel_form", "cancel", "edit_form", "edit",
    "link_add", "link_remove_confirm", "link_remove", "comment", "plan_form", "plan",
    "add_form", "add",
    "board", "move", "work_view", "inline_status", "inline_owner", "inline_due_date",
]  # fmt: skip
# POSTs that change the person's own settings, not deliverables.
SETTINGS_POSTS = {"work_view"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", NAMES)
def test_permission_matrix(client, work, name, persona):
    method, url, data, expected = _urls(work)[name]
    expected = expected[persona]
    user = work.world.people[persona]
    if user is not None:
        client.force_login(user)
    before = deliverable_snapshot()
    response = getattr(client, method)(url, data or {})
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content[:300]
    writes = method == "post" and expected == 302 and name not in SETTINGS_POSTS
    assert (deliverable_snapshot() != before) is writes, persona


@pytest.mark.parametrize("persona", ["member", "colleague", "manager"])
def test_someone_elses_deliverable_is_refused_and_unchanged(client, work, persona):
    """`colleague` owns work.colleagues; only they and the manager may change it."""
    theirs = work.colleagues
    client.force_login(work.world.people[persona])
    before = deliverable_snapshot()
    response = client.post(
        reverse("deliverables:transition", args=[theirs.pk]),
        {"version": theirs.version, "to_status": "in_progress"},
    )
    if persona == "member":
        assert response.status_code == 403
        assert deliverable_snapshot() == before
    else:
        assert response.status_code == 302
        theirs.refresh_from_db()
        assert theirs.status == "in_progress"


def test_matrix_covers_every_deliverables_url(work):
    from deliverables import urls

    covered = {resolve(entry[1]).url_name for entry in _urls(work).values()}
    assert covered == {pattern.name for pattern in urls.urlpatterns}
