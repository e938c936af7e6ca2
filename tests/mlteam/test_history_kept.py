"""History cannot be destroyed from the UI (issue 13): no admin page deletes a
history entry, a project, a deliverable or a person; the admin archives projects
and deactivates people through the services instead; and the database refuses
deletes that would take history with them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import reverse

from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    Digest,
    Reminder,
)
from deliverables.reviews.models import (
    Review,
    ReviewAccess,
    ReviewCycle,
    ReviewEvent,
    ReviewReminder,
)
from deliverables.reviews.services import review_access_record
from mlteam.models import Anonymisation
from roles.models import Membership, Project, RoleAssignment, TeamChange, TeamChangeAction
from tests.factories import PASSWORD

User = get_user_model()

# Every model whose rows are history or carry it, with the fixture row to try.
UNDELETABLE = {
    "team change": (TeamChange, lambda h: TeamChange.objects.filter(project=h.project).first()),
    "deliverable change": (DeliverableEvent, lambda h: h.deliverable.events.first()),
    "digest": (Digest, lambda h: h.digest),
    "reminder": (Reminder, lambda h: h.reminder),
    "review reminder": (ReviewReminder, lambda h: h.review_reminder),
    "review read": (
        ReviewAccess,
        lambda h: review_access_record(review=h.review, reader=h.manager, parts=["history"]),
    ),
    "review": (Review, lambda h: h.review),
    "review cycle": (ReviewCycle, lambda h: h.cycle),
    "project": (Project, lambda h: h.project),
    "deliverable": (Deliverable, lambda h: h.deliverable),
    "membership": (Membership, lambda h: h.membership),
    "role assignment": (RoleAssignment, lambda h: h.assignment),
    "person": (User, lambda h: h.aiko),
}


def _admin_request(user, method="get"):
    request = getattr(RequestFactory(), method)("/admin/")
    request.user = user
    return request


def _url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


def _counts() -> dict[str, int]:
    return {label: model.objects.count() for label, (model, _row) in UNDELETABLE.items()} | {
        "comments": DeliverableComment.objects.count(),
        "links": DeliverableLink.objects.count(),
        "checklist items": ChecklistItem.objects.count(),
        "review changes": ReviewEvent.objects.count(),
    }


@pytest.mark.parametrize("label", UNDELETABLE)
def test_no_admin_may_delete_it_nor_offers_delete_selected(history, label):
    model, row = UNDELETABLE[label]
    model_admin = admin.site._registry[model]
    request = _admin_request(history.root)
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_delete_permission(request, row(history)) is False
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.parametrize("label", UNDELETABLE)
def test_the_admin_delete_page_is_refused_and_deletes_nothing(client, history, label):
    model, row = UNDELETABLE[label]
    obj = row(history)
    before = _counts()
    client.force_login(history.root)
    assert client.get(_url(model, "delete", obj.pk)).status_code == 403
    assert client.post(_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    # "Delete selected" posted by hand: Django answers "no action selected".
    response = client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert model.objects.filter(pk=obj.pk).exists()
    assert _counts() == before


@pytest.mark.parametrize(
    "model", [Project, Deliverable, Membership, Review, Digest], ids=lambda m: m.__name__
)
def test_change_pages_offer_no_inline_delete(client, history, model):
    obj = {
        Project: history.project,
        Deliverable: history.deliverable,
        Membership: history.membership,
        Review: history.review,
        Digest: history.digest,
    }[model]
    model_admin = admin.site._registry[model]
    request = _admin_request(history.root)
    inlines = model_admin.get_inline_instances(request, obj)
    assert inlines
    assert not any(
        inline.can_delete and inline.has_delete_permission(request, obj) for inline in inlines
    )
    client.force_login(history.root)
    response = client.get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert '-DELETE"' not in response.content.decode()


def test_anonymisation_records_are_read_only(client, history):
    record = Anonymisation.objects.create(user=history.aiko, reason="Request 12")
    model_admin = admin.site._registry[Anonymisation]
    request = _admin_request(history.root)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, record)
    assert not model_admin.has_delete_permission(request, record)
    client.force_login(history.root)
    assert client.post(_url(Anonymisation, "delete", record.pk), {"post": "yes"}).status_code == 403
    assert Anonymisation.objects.filter(pk=record.pk).exists()


# --- the database: deletes that would take history with them are refused


def test_deleting_a_project_with_history_is_refused(history):
    with pytest.raises(ProtectedError):
        history.project.delete()
    assert Project.objects.filter(pk=history.project.pk).exists()


def test_deleting_a_deliverable_with_history_is_refused(history):
    with pytest.raises(ProtectedError):
        history.deliverable.delete()
    assert history.deliverable.events.count() > 0


def test_deleting_a_person_with_history_is_refused(history):
    with pytest.raises(ProtectedError):
        history.aiko.delete()
    with pytest.raises(ProtectedError):
        history.manager.delete()  # actor of team changes, writer of a review
    assert User.objects.filter(pk__in=[history.aiko.pk, history.manager.pk]).count() == 2


def test_deleting_a_review_cycle_or_a_digest_with_history_is_refused(history):
    with pytest.raises(ProtectedError):
        history.cycle.delete()
    with pytest.raises(ProtectedError):
        history.digest.delete()


# --- admin actions that replace deletion go through the services


def _run_action(client, model, action, pks, *, confirm=True):
    data = {"action": action, "_selected_action": pks}
    if confirm:
        data["post"] = "yes"
    return client.post(_url(model, "changelist"), data)


def test_archive_selected_projects_asks_then_archives_through_the_service(client, history):
    client.force_login(history.root)
    project = history.project
    version = project.version
    page = _run_action(client, Project, "archive_selected", [project.pk], confirm=False)
    assert page.status_code == 200
    assert "Archive these projects?" in page.content.decode()
    assert "Churn" in page.content.decode()
    project.refresh_from_db()
    assert project.archived_at is None  # only asked so far

    response = _run_action(client, Project, "archive_selected", [project.pk])
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.archived_at is not None
    assert project.version == version + 1
    latest = TeamChange.objects.filter(project=project).first()
    assert (latest.action, latest.actor) == (TeamChangeAction.PROJECT_ARCHIVED, history.root)

    again = _run_action(client, Project, "archive_selected", [project.pk])
    assert "1 was already archived." in [str(m) for m in again.wsgi_request._messages][-1]
    assert TeamChange.objects.filter(action=TeamChangeAction.PROJECT_ARCHIVED).count() == 1


def test_deactivate_selected_people_keeps_their_name_and_signs_them_out(client, history):
    aiko = history.aiko
    aiko_client = type(client)()
    assert aiko_client.login(request=HttpRequest(), username="aiko", password=PASSWORD)
    assert Session.objects.count() == 1
    client.force_login(history.root)

    page = _run_action(client, User, "deactivate_selected", [aiko.pk], confirm=False)
    assert page.status_code == 200 and "Deactivate these people?" in page.content.decode()
    aiko.refresh_from_db()
    assert aiko.is_active

    response = _run_action(client, User, "deactivate_selected", [aiko.pk])
    assert response.status_code == 302
    aiko.refresh_from_db()
    assert not aiko.is_active
    assert (aiko.username, aiko.get_full_name(), aiko.email) == (
        "aiko",
        "Aiko Tanaka",
        "aiko@example.com",
    )
    assert Membership.objects.filter(user=aiko).exists()
    assert Deliverable.objects.filter(owner=aiko).exists()
    # Signed out: only the admin's own session is left, and Aiko's page asks to sign in.
    assert aiko_client.get(reverse("home")).status_code == 302
    assert Session.objects.count() == 1


def test_an_admin_cannot_deactivate_themselves(client, history):
    client.force_login(history.root)
    response = _run_action(client, User, "deactivate_selected", [history.root.pk, history.aiko.pk])
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["You cannot deactivate your own account."]
    still_active = User.objects.filter(pk__in=[history.root.pk, history.aiko.pk], is_active=True)
    assert still_active.count() == 2


def test_remove_selected_memberships_goes_through_the_service(client, history):
    client.force_login(history.root)
    version = history.project.version
    _run_action(client, Membership, "remove_selected", [history.membership.pk])
    assert not Membership.objects.filter(pk=history.membership.pk).exists()
    latest = TeamChange.objects.filter(project=history.project).first()
    assert (latest.action, latest.actor, latest.person) == (
        TeamChangeAction.MEMBER_REMOVED,
        history.root,
        history.aiko,
    )
    history.project.refresh_from_db()
    assert history.project.version == version + 1
    history.deliverable.refresh_from_db()
    assert history.deliverable.owner is None  # released, as on the team page


def test_unassign_selected_roles_goes_through_the_service(client, history):
    client.force_login(history.root)
    _run_action(client, RoleAssignment, "unassign_selected", [history.assignment.pk])
    assert not RoleAssignment.objects.filter(pk=history.assignment.pk).exists()
    latest = TeamChange.objects.filter(project=history.project).first()
    assert (latest.action, latest.actor, latest.role) == (
        TeamChangeAction.ROLE_UNASSIGNED,
        history.root,
        history.assignment.role,
    )


def test_actions_on_an_archived_project_are_refused_with_a_message(client, history):
    client.force_login(history.root)
    _run_action(client, Project, "archive_selected", [history.project.pk])
    response = _run_action(client, Membership, "remove_selected", [history.membership.pk])
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages[-1].endswith("This project is archived. Restore it before changing it.")
    assert Membership.objects.filter(pk=history.membership.pk).exists()


# --- a person who leaves keeps their name on the history they wrote


def test_a_deactivated_person_keeps_their_name_on_pages(client, history):
    User.objects.filter(pk=history.aiko.pk).update(is_active=False)
    client.force_login(history.manager)
    page = client.get(reverse("deliverables:detail", args=[history.deliverable.pk]))
    html = page.content.decode()
    assert html.count("Aiko Tanaka") >= 4  # owner, comment, checklist answer, history
    assert ">deactivated</span>" in html
    activity = client.get(reverse("roles:project_activity", args=[history.project.pk]))
    assert "Aiko Tanaka" in activity.content.decode()


def test_user_admin_refuses_the_anonymised_placeholder_as_a_new_username(client, history):
    client.force_login(history.root)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "former-member-99",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert "are kept for anonymised accounts" in response.content.decode()
    assert not User.objects.filter(username="former-member-99").exists()
