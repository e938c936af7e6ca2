"""Invitations: only pending invitees can use a link, and links end when they should."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from roles.models import Membership
from tests.factories import PASSWORD, UserFactory
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
    assert "nora@example.com" not in str(
        list(world.project.team_changes.values_list("detail", flat=True))
    )


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
    assert not client.login(username="nora", password=PASSWORD)


def test_the_manager_is_told_whether_an_email_went_out(client, invite, world):
    response = invite("nora@example.com")
    page = client.get(response["Location"]).content.decode()
    assert "Invitation sent to nora@example.com" in page
    response = invite(world.people["newcomer"].email)
    page = client.get(response["Location"]).content.decode()
    assert "already had an account and joined the team" in page
