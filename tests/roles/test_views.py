"""Team pages: bad input gets a clear error and changes nothing; htmx and plain forms."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from roles.models import Membership, RoleAssignment, TeamChange, TeamChangeAction
from roles.services import project_archive
from tests.factories import PASSWORD, UserFactory, role
from tests.roles.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, world):
    client.force_login(world.people["manager"])
    return client


def _assign_data(world, slug, allocation, version=None):
    m = world.membership.pk
    return {
        f"m{m}-version": version or world.project.version,
        f"m{m}-role": role(slug).pk,
        f"m{m}-allocation_percent": allocation,
    }


def test_assigning_the_same_role_twice_is_a_form_error(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "data-scientist", 20),
    )
    assert response.status_code == 422
    assert "already holds this role" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True])
def test_a_deactivated_member_takes_on_no_new_role(manager_client, world, htmx):
    """They stay on the team with the roles they held, but the team page offers them
    no new one, and a form drawn before they were deactivated is refused (a role
    they cannot fill would show as filled)."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=world.people["member"].pk).update(is_active=False, email="")
    team = manager_client.get(reverse("roles:project_team", args=[world.project.pk]))
    html = team.content.decode()
    assert ">deactivated</span>" in html
    from roles.models import Role

    empty_cell = reverse(
        "roles:team_cell",
        args=[world.project.pk, world.membership.pk, Role.objects.get(slug="ml-engineer").pk],
    )
    held_cell = reverse(
        "roles:team_cell", args=[world.project.pk, world.membership.pk, world.assignment.role_id]
    )
    assert f'href="{empty_cell}"' not in html  # no new role offered ...
    assert f'href="{held_cell}"' in html  # ... the one held can still change
    editor = manager_client.get(empty_cell).content.decode()
    assert "it takes on no new role" in editor
    assert reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]) not in editor

    before = snapshot()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "ml-engineer", 20),
        follow=not htmx,
        **headers,
    )
    assert response.status_code == 200
    assert "This account is deactivated." in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("allocation", ["-5", "101", "lots"])
def test_allocation_outside_0_to_100_is_a_form_error(manager_client, world, allocation):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "ml-engineer", allocation),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Ensure this value" in page or "whole number from 0 to 100" in page
    response = manager_client.post(
        reverse("roles:assignment_edit", args=[world.project.pk, world.assignment.pk]),
        {"version": world.project.version, "allocation_percent": allocation},
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_person_not_on_the_project_cannot_get_a_role_there(manager_client, world):
    """A membership of another project is not found through this project."""
    other = Membership.objects.create(project=world.other_project, user=world.people["outsider"])
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, other.pk]),
        {
            f"m{other.pk}-version": world.project.version,
            f"m{other.pk}-role": role("ml-engineer").pk,
        },
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_adding_someone_already_on_the_team_is_a_form_error(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": world.people["member"].pk},
    )
    assert response.status_code == 422
    assert "not on the team yet" in response.content.decode()
    assert snapshot() == before


def test_a_stale_form_is_refused_and_keeps_the_newer_change(manager_client, world):
    stale = world.project.version
    manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": stale, "user": world.people["newcomer"].pk},
    )
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "ml-engineer", 30, version=stale),
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Someone else changed this project" in page
    assert snapshot() == before
    # The form offered again carries the current version, so a retry works.
    world.project.refresh_from_db()
    assert f'value="{world.project.version}"' in page


def test_edits_to_an_archived_project_are_refused(manager_client, world):
    project = project_archive(project=world.project, actor=world.people["manager"], version=None)
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[project.pk]),
        {"version": project.version, "user": world.people["newcomer"].pk},
    )
    assert response.status_code == 422
    assert "archived" in response.content.decode()
    response = manager_client.get(reverse("roles:project_edit", args=[project.pk]), follow=True)
    assert "Restore it before changing it" in response.content.decode()
    assert snapshot() == before


def test_project_form_errors_are_clear(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:project_create"),
        {
            "name": "churn",  # clashes with "Churn", ignoring case
            "status": "active",
            "managers": [world.people["manager"].pk],
            "start_date": "2026-05-01",
            "target_date": "2026-04-01",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A project with this name already exists." in page
    assert "The target date cannot be before the start date." in page
    assert snapshot() == before


def test_htmx_team_action_returns_the_matrix_and_the_summary_out_of_band(manager_client, world):
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "ml-engineer", 30),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<section aria-labelledby="matrix-heading"')
    assert '<div id="team-summary" hx-swap-oob="innerHTML">' in page
    assert "is now ML engineer." in page  # the message, in the summary
    assert RoleAssignment.objects.filter(
        membership=world.membership, role__slug="ml-engineer"
    ).exists()


def test_htmx_form_error_is_shown_in_the_cell_editor(manager_client, world):
    response = manager_client.post(
        reverse("roles:team_assign", args=[world.project.pk, world.membership.pk]),
        _assign_data(world, "data-scientist", 30),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx only swaps 2xx answers
    assert "already holds this role" in response.content.decode()
    # ... into the dialog, not over the matrix.
    assert response["HX-Retarget"] == "#cell-editor-body"
    assert response["HX-Reswap"] == "innerHTML"


def test_removing_a_member_asks_first_then_clears_their_deliverables(manager_client, world):
    from tests.factories import DeliverableFactory

    deliverable = DeliverableFactory(project=world.project, owner=world.people["member"])
    url = reverse("roles:team_remove", args=[world.project.pk, world.membership.pk])
    page = manager_client.get(url).content.decode()
    assert "lose their owner" in page
    assert Membership.objects.filter(pk=world.membership.pk).exists()

    response = manager_client.post(url, {"version": world.project.version})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=world.membership.pk).exists()
    deliverable.refresh_from_db()
    assert deliverable.owner is None


def test_every_team_change_is_recorded_and_shown(manager_client, world):
    manager_client.post(
        reverse("roles:assignment_edit", args=[world.project.pk, world.assignment.pk]),
        {"version": world.project.version, "allocation_percent": 70},
    )
    change = TeamChange.objects.filter(project=world.project).first()
    assert change.action == TeamChangeAction.ASSIGNMENT_CHANGED
    assert change.actor == world.people["manager"]
    assert change.person == world.people["member"]
    assert change.detail == "100% → 70%"
    page = manager_client.get(
        reverse("roles:project_detail", args=[world.project.pk])
    ).content.decode()
    assert "changed an allocation" in page


def test_invitation_creates_an_inactive_account_that_activates_on_accept(
    client, manager_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("roles:team_invite", args=[world.project.pk]),
            {"version": world.project.version, "email": "Nora@Example.com", "first_name": "Nora"},
        )
    assert response.status_code == 302
    user = Membership.objects.get(
        project=world.project, user__email__iexact="nora@example.com"
    ).user
    assert not user.is_active
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert "Churn" in message.subject
    assert message.alternatives and "text/html" in message.alternatives[0][1]
    link = re.search(r"https?://[^/]+(/accounts/invitation/\S+)", message.body).group(1)

    manager_client.logout()
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "nora-long-password", "new_password2": "nora-long-password"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("nora-long-password")
    assert client.login(
        request=HttpRequest(), username=user.username, password="nora-long-password"
    )


def test_inviting_an_existing_active_person_just_adds_them(
    manager_client, world, django_capture_on_commit_callbacks
):
    newcomer = world.people["newcomer"]
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse("roles:team_invite", args=[world.project.pk]),
            {"version": world.project.version, "email": newcomer.email},
        )
    assert Membership.objects.filter(project=world.project, user=newcomer).exists()
    assert mail.outbox == []


def test_outsider_sees_the_project_in_no_list_count_or_search(client, world):
    client.force_login(world.people["outsider"])
    for url in (
        reverse("roles:project_list") + "?q=Churn",
        reverse("roles:portfolio_coverage"),
        reverse("roles:role_detail", args=["data-scientist"]),
        reverse("roles:people_list") + "?q=member",
        reverse("home"),
    ):
        page = client.get(url).content.decode()
        assert reverse("roles:project_detail", args=[world.project.pk]) not in page, url
        assert ">Churn<" not in page, url
        assert world.people["member"].get_full_name() not in page, url


def test_member_sees_their_project_read_only(client, world):
    client.force_login(world.people["member"])
    page = client.get(reverse("roles:project_detail", args=[world.project.pk])).content.decode()
    assert "Churn" in page
    assert "Manage team" not in page and "Archive" not in page


def test_sign_in_then_land_on_the_team_page(client, world):
    url = reverse("roles:project_team", args=[world.project.pk])
    response = client.post(
        reverse("login") + f"?next={url}",
        {"login": "manager", "password": PASSWORD, "next": url},
    )
    assert response["Location"] == url


def test_archive_and_restore(manager_client, world):
    response = manager_client.post(
        reverse("roles:project_archive", args=[world.project.pk]),
        {"version": world.project.version},
    )
    assert response.status_code == 302
    world.project.refresh_from_db()
    assert world.project.is_archived
    assert "Churn" not in manager_client.get(reverse("roles:project_list")).content.decode()
    assert (
        "Churn"
        in manager_client.get(reverse("roles:project_list") + "?archived=on").content.decode()
    )
    manager_client.post(
        reverse("roles:project_unarchive", args=[world.project.pk]),
        {"version": world.project.version},
    )
    world.project.refresh_from_db()
    assert not world.project.is_archived


def test_people_directory_shows_roles_allocation_and_open_work(manager_client, world):
    from tests.factories import DeliverableFactory

    DeliverableFactory(project=world.project, owner=world.people["member"])
    page = manager_client.get(reverse("roles:people_list") + "?q=member").content.decode()
    assert "Data scientist (100%)" in page
    assert re.search(r">\s*1\s*</td>", page)


def test_unknown_user_in_add_form_is_a_form_error(manager_client, world):
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": 999999},
    )
    assert response.status_code == 422
    assert snapshot() == before
    assert UserFactory._meta.model.objects.filter(pk=999999).count() == 0


def test_project_activity_pages_through_every_change(client, world):
    """Team and deliverable changes, newest first, 50 a page, the same queries a page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deliverables.services import comment_add, deliverable_create
    from tests.factories import deliverable_type

    manager = world.people["manager"]
    deliverable = deliverable_create(
        project=world.project,
        type=deliverable_type("prd"),
        title="PRD",
        owner=world.people["member"],
        actor=manager,
    )
    for n in range(60):
        comment_add(deliverable=deliverable, actor=manager, body=f"Note {n}")
    client.force_login(world.people["member"])
    url = reverse("roles:project_activity", args=[world.project.pk])
    first = client.get(url)
    entries = list(first.context["page_obj"].object_list)
    assert len(entries) == 50 and first.context["page_obj"].has_next()
    assert [e.created_at for e in entries] == sorted((e.created_at for e in entries), reverse=True)
    total = first.context["page_obj"].paginator.count
    with CaptureQueriesContext(connection) as small:
        second = client.get(url, {"page": 2})
    assert len(second.context["page_obj"].object_list) == total - 50
    seen = {(e.source, e.pk) for e in entries}  # a team change and an event may share an id
    assert not seen & {(e.source, e.pk) for e in second.context["page_obj"].object_list}
    with CaptureQueriesContext(connection) as large:
        client.get(url, {"page": "999"})  # clamped, never an error
    assert len(large) == len(small)
    assert client.get(url, {"page": "abc"}).status_code == 200


def test_lists_in_a_sentence_are_joined_as_the_readers_language_joins_them(client):
    """Managers, unfilled roles and the like: "A, B" in English, "A、B" in Japanese
    (mlteam.text.list_separator), each name escaped."""
    from tests.factories import ProjectFactory, manager_user

    first = manager_user(username="aiko", first_name="Aiko", last_name="<b>Tanaka</b>")
    second = manager_user(username="ben", first_name="Ben", last_name="Okafor")
    project = ProjectFactory(name="Churn", managers=[first, second])
    client.force_login(first)
    url = reverse("roles:project_detail", args=[project.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    # (in the database's name order: PostgreSQL's collation skips the markup, SQLite's does not)
    aiko, ben = "Aiko &lt;b&gt;Tanaka&lt;/b&gt;", "Ben Okafor"
    assert f"{aiko}, {ben}" in english or f"{ben}, {aiko}" in english
    assert f"{aiko}、{ben}" in japanese or f"{ben}、{aiko}" in japanese
    assert "<b>Tanaka</b>" not in english
