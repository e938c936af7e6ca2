"""`manage.py anonymise_person`: a data-protection request replaces what identifies
a person, keeps every row of the history they are part of (shown as "Former
member"), and records that it ran."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from deliverables.models import EventKind, ReminderPreference
from mlteam.models import Anonymisation
from mlteam.people import is_pending_invitee, person_name
from mlteam.services import person_anonymise
from tests.factories import PASSWORD, UserFactory

User = get_user_model()


def _run(*args) -> str:
    out = StringIO()
    call_command("anonymise_person", *args, stdout=out)
    return out.getvalue()


def _account(user) -> tuple:
    user.refresh_from_db()
    return (
        user.username, user.first_name, user.last_name, user.email, user.password,
        user.is_active, user.is_staff, list(user.groups.all()),
    )  # fmt: skip


def _history_rows(history) -> dict:
    """Every row that names Aiko, by kind (what must all still be there)."""
    from mlteam.selectors import person_history

    return person_history(history.aiko)


@pytest.fixture
def signed_in_aiko(client, history):
    ReminderPreference.objects.create(user=history.aiko, time_zone="Asia/Tokyo", hour=8)
    LogEntry.objects.log_actions(
        user_id=history.root.pk,
        queryset=[history.aiko],
        action_flag=CHANGE,
        change_message="Changed email.",
        single_object=True,
    )
    assert client.login(request=HttpRequest(), username="aiko", password=PASSWORD)
    return history


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(signed_in_aiko):
    history = signed_in_aiko
    account, rows = _account(history.aiko), _history_rows(history)
    out = _run("aiko")
    assert "Dry run: would anonymise account" in out
    assert f"username -> former-member-{history.aiko.pk}" in out
    assert "owner names in deliverable history renamed: 1" in out
    assert "sessions ended: 1" in out
    assert "comments written: 1" in out
    assert "Nothing changed." in out
    assert _account(history.aiko) == account
    assert _history_rows(history) == rows
    assert not Anonymisation.objects.exists()
    assert Session.objects.count() == 1


def test_anonymising_replaces_identity_keeps_history_and_records_it(client, signed_in_aiko):
    history = signed_in_aiko
    aiko = history.aiko
    rows = _history_rows(history)
    out = _run("aiko", "--yes", "--reason", "Erasure request 2026-17", "--by", "root")
    placeholder = f"former-member-{aiko.pk}"
    assert f"now {placeholder}" in out

    aiko.refresh_from_db()
    assert (aiko.username, aiko.first_name, aiko.last_name, aiko.email) == (placeholder, "", "", "")
    assert not aiko.has_usable_password()
    assert not aiko.is_active and not aiko.is_staff and not aiko.is_superuser
    assert not is_pending_invitee(aiko)  # no invitation can bring the account back
    assert not ReminderPreference.objects.filter(user=aiko).exists()
    assert not Session.objects.exists()
    assert client.get(reverse("home")).status_code == 302  # signed out
    # Every row of history is still there, pointing at the same account.
    assert _history_rows(history) == rows
    owner_change = history.deliverable.events.get(kind=EventKind.OWNER)
    assert owner_change.payload["after"] == {"id": aiko.pk, "name": placeholder}
    assert owner_change.display_after == "Former member"
    user_type = ContentType.objects.get_for_model(User)
    log = LogEntry.objects.get(content_type=user_type, object_id=str(aiko.pk))
    assert log.object_repr == placeholder

    record = Anonymisation.objects.get(user=aiko)
    assert (record.reason, record.run_by) == ("Erasure request 2026-17", history.root)
    assert record.summary["kept"]["comments written"] == 1
    assert "Aiko" not in str(record.summary) and "aiko" not in str(record.summary)


def test_pages_show_former_member_and_never_the_old_name(client, history):
    _run("aiko", "--yes", "--reason", "Erasure request")
    client.force_login(history.manager)
    pages = [
        reverse("deliverables:detail", args=[history.deliverable.pk]),
        reverse("roles:project_activity", args=[history.project.pk]),
        reverse("roles:project_detail", args=[history.project.pk]),
        reverse("roles:project_team", args=[history.project.pk]),
        reverse("reviews:review_detail", args=[history.review.pk]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "Former member" in html, url
        assert "Aiko" not in html and "Tanaka" not in html, url
    detail = client.get(pages[0]).content.decode()
    assert "The draft is up." in detail  # what they wrote is kept as written


def test_choice_lists_name_them_former_member_not_the_placeholder(client, history):
    """The owner pickers read "Former member", as every page does, not the
    placeholder username."""
    _run("aiko", "--yes", "--reason", "Erasure request")
    client.force_login(history.manager)
    html = client.get(reverse("deliverables:edit", args=[history.deliverable.pk])).content.decode()
    assert f'<option value="{history.aiko.pk}" selected>Former member</option>' in html
    assert "former-member-" not in html


def test_former_member_reads_in_the_readers_language(history):
    _run("aiko", "--yes", "--reason", "Erasure request")
    history.aiko.refresh_from_db()
    with translation.override("ja"):
        assert person_name(history.aiko) == "元メンバー"


def test_a_second_run_says_it_was_already_anonymised(history):
    _run("aiko", "--yes", "--reason", "Erasure request")
    placeholder = f"former-member-{history.aiko.pk}"
    out = _run(placeholder, "--yes", "--reason", "Again")
    assert "was already anonymised" in out
    assert Anonymisation.objects.count() == 1
    with pytest.raises(CommandError, match="No person has the username 'aiko'"):
        _run("aiko", "--yes", "--reason", "Again")


def test_an_unknown_person_is_refused_clearly(db):
    with pytest.raises(CommandError, match=r"No person has the username 'nobody'.*former-member-"):
        _run("nobody")


def test_the_real_run_needs_a_reason(history):
    account = _account(history.aiko)
    with pytest.raises(CommandError, match="--reason"):
        _run("aiko", "--yes", "--reason", "   ")
    assert _account(history.aiko) == account
    assert not Anonymisation.objects.exists()


def test_a_superuser_is_refused_unless_forced(history):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="superuser"):
        _run("boss", "--yes", "--reason", "Left")
    boss.refresh_from_db()
    assert boss.username == "boss" and boss.is_superuser
    _run("boss", "--yes", "--reason", "Left", "--force")
    boss.refresh_from_db()
    assert boss.username == f"former-member-{boss.pk}" and not boss.is_superuser


def test_by_must_name_an_active_admin(history):
    with pytest.raises(CommandError, match="not an active admin"):
        _run("aiko", "--yes", "--reason", "Erasure", "--by", "manager")
    assert not Anonymisation.objects.exists()


def test_the_service_refuses_the_person_running_it(history):
    with pytest.raises(ValidationError) as refused:
        person_anonymise(user=history.root, reason="Me", run_by=history.root, force=True)
    assert refused.value.code == "self"
    history.root.refresh_from_db()
    assert history.root.username == "root"


def test_an_anonymised_account_is_read_only_in_the_user_admin(client, history):
    _run("aiko", "--yes", "--reason", "Erasure request")
    client.force_login(history.root)
    url = reverse("admin:auth_user_change", args=[history.aiko.pk])
    response = client.post(url, {"username": "aiko", "is_active": "on"})
    assert response.status_code == 403
    history.aiko.refresh_from_db()
    assert not history.aiko.is_active and history.aiko.username.startswith("former-member-")


def test_owner_changes_are_renamed_by_id_and_older_ones_by_name(history):
    """An owner change names the owner by id and name; one written before ids were
    kept names them only, and is matched by name on their projects. Someone else
    with the same name keeps theirs."""
    from deliverables.models import DeliverableEvent

    namesake = UserFactory(username="aiko2", first_name="Aiko", last_name="Tanaka")
    common = {
        "deliverable": history.deliverable,
        "project_id": history.project.pk,
        "kind": EventKind.OWNER,
    }
    older = DeliverableEvent.objects.create(**common, payload={"before": {"name": "Aiko Tanaka"}})
    theirs = DeliverableEvent.objects.create(
        **common, payload={"after": {"id": namesake.pk, "name": "Aiko Tanaka"}}
    )
    person_anonymise(user=history.aiko, reason="Erasure request")
    older.refresh_from_db()
    theirs.refresh_from_db()
    placeholder = f"former-member-{history.aiko.pk}"
    assert older.payload == {"before": {"name": placeholder}}
    assert older.display_before == "Former member"
    assert theirs.payload == {"after": {"id": namesake.pk, "name": "Aiko Tanaka"}}
