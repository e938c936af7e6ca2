"""Invitations: only pending invitees can use a link, and links end when they should."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from roles.models import Membership
from roles.services import invitation_accept
from tests.factories import PASSWORD, UserFactory, role
from tests.roles.conftest import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.people["manager"])

    def send(email: str, **extra):
        world.project.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("roles:team_invite", args=[world.project.pk]),
                {"version": world.project.version, "email": email, **extra},
            )

    return send


def _link(message) -> str:
    return re.search(r"https?://[^/]+(/accounts/invitation/\S+)", message.body).group(1)


def _accept(client, link: str, password: str = "a-long-new-password"):
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_inviting_a_deactivated_account_is_refused(invite, world):
    former = UserFactory(username="former", email="former@example.com", is_active=False)
    before = snapshot()
    response = invite("former@example.com")
    assert response.status_code == 422
    assert "deactivated" in response.content.decode()
    assert snapshot() == before
    assert mail.outbox == []
    former.refresh_from_db()
    assert not former.is_active


def test_a_password_reset_token_does_not_open_an_invitation(client, world):
    former = UserFactory(username="former", is_active=False)
    uid = urlsafe_base64_encode(force_bytes(former.pk))
    token = default_token_generator.make_token(former)
    _accept(client, reverse("invitation_accept", args=[uid, token]))
    former.refresh_from_db()
    assert not former.is_active


def test_withdrawn_invitation_link_stops_working(client, invite, world):
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    membership = Membership.objects.get(user__email="nora@example.com")
    world.project.refresh_from_db()
    client.post(
        reverse("roles:team_remove", args=[world.project.pk, membership.pk]),
        {"version": world.project.version},
    )
    client.logout()
    page = client.get(link, follow=True).content.decode()
    assert "no longer works" in page
    _accept(client, link)
    assert not membership.user.__class__.objects.get(pk=membership.user_id).is_active


def test_inviting_again_resends_the_email(invite, world):
    invite("nora@example.com")
    response = invite("nora@example.com")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert Membership.objects.filter(user__email="nora@example.com").count() == 1


def test_an_accepted_link_cannot_be_used_twice(client, invite, world):
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    assert _accept(client, link).status_code == 302
    client.logout()
    _accept(client, link, password="someone-elses-password")
    user = Membership.objects.get(user__email="nora@example.com").user
    assert user.check_password("a-long-new-password")


def test_email_with_unusual_characters_gets_a_valid_username(invite, world):
    response = invite("o'brien@example.com")
    assert response.status_code == 302
    user = Membership.objects.get(user__email="o'brien@example.com").user
    assert user.username == "obrien"


def test_invitation_subject_is_plain_text(invite, world):
    world.project.name = "R&D <Churn>"
    world.project.save()
    invite("nora@example.com")
    assert mail.outbox[0].subject == "You are invited to the R&D <Churn> team on MLTeam"


def test_the_email_address_is_not_written_to_the_activity(invite, world):
    invite("nora@example.com")
    stored = list(world.project.team_changes.values_list("payload", flat=True))
    assert stored and "nora@example.com" not in str(stored)


def test_demoted_manager_loses_the_right_to_change_their_projects(client, world):
    manager = world.people["manager"]
    manager.groups.remove(Group.objects.get(name="Managers"))
    client.force_login(manager)
    # Not on the team and no longer a manager: the project is now out of sight.
    assert client.get(reverse("roles:project_team", args=[world.project.pk])).status_code == 404


def test_stale_project_edit_can_be_resubmitted_after_the_error(client, world):
    client.force_login(world.people["manager"])
    data = {
        "version": world.project.version,
        "name": "Renamed",
        "status": "active",
        "managers": [world.people["manager"].pk],
    }
    world.project.refresh_from_db()
    client.post(
        reverse("roles:project_archive", args=[world.project.pk]),
        {"version": world.project.version},
    )
    client.post(
        reverse("roles:project_unarchive", args=[world.project.pk]),
        {"version": world.project.version + 1},
    )
    response = client.post(reverse("roles:project_edit", args=[world.project.pk]), data)
    page = response.content.decode()
    assert "Someone else changed this project" in page
    world.project.refresh_from_db()
    assert world.project.name == "Churn"
    current = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert int(current) == world.project.version
    response = client.post(
        reverse("roles:project_edit", args=[world.project.pk]), {**data, "version": current}
    )
    assert response.status_code == 302
    world.project.refresh_from_db()
    assert world.project.name == "Renamed"


def test_signing_in_with_an_invited_but_unaccepted_account_fails(client, invite, world):
    invite("nora@example.com")
    client.logout()
    assert not client.login(request=HttpRequest(), username="nora", password=PASSWORD)


def test_the_manager_is_told_whether_an_email_went_out(client, invite, world):
    response = invite("nora@example.com")
    page = client.get(response["Location"]).content.decode()
    assert "Invitation sent to nora@example.com" in page
    response = invite(world.people["newcomer"].email)
    page = client.get(response["Location"]).content.decode()
    assert "already had an account and joined the team" in page


# --- accepting: signed in, on home, once ------------------------------------------------


def _assign(client, world, membership, slug: str = "ml-engineer", allocation: int = 50):
    world.project.refresh_from_db()
    prefix = f"m{membership.pk}"
    response = client.post(
        reverse("roles:team_assign", args=[world.project.pk, membership.pk]),
        {
            f"{prefix}-version": world.project.version,
            f"{prefix}-role": role(slug).pk,
            f"{prefix}-allocation_percent": allocation,
        },
    )
    assert response.status_code == 302


def test_choosing_a_password_signs_the_invitee_in_and_lands_on_home(client, invite, world):
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    response = _accept(client, link)
    nora = Membership.objects.get(user__email="nora@example.com").user
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(nora.pk)
    assert client.session[BACKEND_SESSION_KEY] == "mlteam.auth.PermissionBackend"
    assert INTERNAL_RESET_SESSION_TOKEN not in client.session
    nora.refresh_from_db()
    assert nora.is_active and nora.last_login is not None
    page = client.get(response["Location"]).content.decode()
    assert "Welcome to MLTeam. Your password is set and you are signed in." in page
    assert "Welcome, nora" in page


def test_signing_in_from_an_invitation_starts_a_new_session(client, invite, world):
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    form_url = client.get(link)["Location"]  # the token moves into the session
    before = client.session.session_key
    client.post(
        form_url, {"new_password1": "a-long-new-password", "new_password2": "a-long-new-password"}
    )
    assert client.session.session_key != before
    assert client.session[SESSION_KEY]


def test_a_used_link_does_not_work_even_for_the_signed_in_invitee(client, invite, world):
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    _accept(client, link)
    page = client.get(link, follow=True).content.decode()
    assert "This invitation no longer works" in page
    _accept(client, link, password="another-long-password")
    nora = Membership.objects.get(user__email="nora@example.com").user
    nora.refresh_from_db()
    assert nora.check_password("a-long-new-password")


def test_accepting_twice_from_the_same_loaded_account_keeps_the_first_password(invite, world):
    """Two submits of one link that both passed the token check before either
    saved: only the first activates the account and sets its password."""
    invite("nora@example.com")
    User = get_user_model()
    first = User.objects.get(email="nora@example.com")
    second = User.objects.get(email="nora@example.com")
    invitation_accept(user=first, password="the-first-password")
    with pytest.raises(ValidationError):
        invitation_accept(user=second, password="the-second-password")
    nora = User.objects.get(email="nora@example.com")
    assert nora.is_active
    assert nora.check_password("the-first-password")


def test_the_first_home_page_lists_the_role_given_before_accepting(client, invite, world):
    invite("nora@example.com")
    membership = Membership.objects.get(user__email="nora@example.com")
    _assign(client, world, membership, "ml-engineer", 50)
    link = _link(mail.outbox[0])
    client.logout()
    page = client.get(_accept(client, link)["Location"]).content.decode()
    roles = page[page.index('id="roles-heading"') : page.index('id="projects-heading"')]
    assert "ML engineer" in roles and "Churn" in roles and "50%" in roles
    assert "You hold no role" not in roles


def test_the_first_home_page_of_an_invitee_without_a_role_says_so_without_contradiction(
    client, invite, world
):
    """Invited people join a team before anyone gives them a role: home lists the
    team and says the role is still to come, not that they should ask to join one."""
    invite("nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    page = client.get(_accept(client, link)["Location"]).content.decode()
    roles = page[page.index('id="roles-heading"') : page.index('id="projects-heading"')]
    projects = page[page.index('id="projects-heading"') :]
    assert "Churn" in projects
    assert "Ask your engineering manager to add you to a team." not in roles
    assert "You hold no role on your projects yet." in roles


def test_a_role_given_after_the_first_home_page_shows_on_the_next(client, invite, world):
    invite("nora@example.com")
    membership = Membership.objects.get(user__email="nora@example.com")
    link = _link(mail.outbox[0])
    client.logout()
    home = _accept(client, link)["Location"]
    assert "ML engineer" not in client.get(home).content.decode()
    nora_session = client.cookies
    manager = Client()
    manager.force_login(world.people["manager"])
    _assign(manager, world, membership, "ml-engineer", 50)
    client.cookies = nora_session
    page = client.get(home).content.decode()
    roles = page[page.index('id="roles-heading"') : page.index('id="projects-heading"')]
    assert "ML engineer" in roles
