"""Reminder settings: the page shows what is saved, saves only what the person
changed, and the languages (interface and emails) are remembered and used."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from deliverables import forms, reminders
from deliverables.models import ReminderPreference
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "deliverables:reminder_preferences"


class _FormValues(HTMLParser):
    """What a browser would submit for the page's settings form, untouched."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":  # the settings form posts to its own page; others have an action
            self._in_form = "action" not in attrs
        if not getattr(self, "_in_form", False):
            return
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                self.values.setdefault(name, [])
                if "checked" in attrs:
                    self.values[name].append(attrs.get("value", "on"))
            elif kind not in ("submit", "button"):
                self.values.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        if tag == "select":
            self._select = None


def _page_form(client) -> dict[str, list[str]]:
    """Everything the untouched settings form would post, hidden fields included."""
    response = client.get(reverse(URL))
    assert response.status_code == 200
    parser = _FormValues()
    parser.feed(response.content.decode())
    return parser.values


def _drawn(client) -> dict[str, list[str]]:
    """The settings as the person sees them on the page."""
    return {
        name: values
        for name, values in _page_form(client).items()
        if not name.startswith("initial-") and name != "version"
    }


SAVED = {
    "hour": 7,
    "time_zone": "Asia/Tokyo",
    "working_days": "0,1,2,3,4,5,6",
    "due_soon_days": 10,
    "paused_until": date(2026, 12, 24),
    "language": "ja",
}


def _saved(user) -> dict:
    preference = ReminderPreference.objects.get(user=user)
    return {name: getattr(preference, name) for name in SAVED}


def test_the_page_shows_every_saved_setting(client):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    drawn = _drawn(client)
    assert drawn["working_days"] == ["0", "1", "2", "3", "4", "5", "6"]
    assert drawn["hour"] == ["7"]
    assert drawn["time_zone"] == ["Asia/Tokyo"]
    assert drawn["due_soon_days"] == ["10"]
    assert drawn["paused_until"] == ["2026-12-24"]
    assert drawn["language"] == ["ja"]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("hour", "8", 8),
        ("time_zone", "Europe/Paris", "Europe/Paris"),
        ("working_days", ["1", "3"], "1,3"),
        ("due_soon_days", "2", 2),
        ("paused_until", "", None),
        ("language", "en", "en"),
    ],
)
def test_changing_one_setting_keeps_all_the_others(client, field, value, stored):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    data = _page_form(client)
    data[field] = value if isinstance(value, list) else [value]
    response = client.post(reverse(URL), data)
    assert response.status_code == 302
    assert _saved(user) == {**SAVED, field: stored}
    assert _drawn(client) == {**_drawn_from(SAVED), field: data[field]}


def _drawn_from(values: dict) -> dict[str, list[str]]:
    return {
        "hour": [str(values["hour"])],
        "time_zone": [values["time_zone"]],
        "working_days": values["working_days"].split(","),
        "due_soon_days": [str(values["due_soon_days"])],
        "paused_until": [values["paused_until"].isoformat()],
        "language": [values["language"]],
    }


def test_after_changing_only_the_hour_the_person_still_gets_digests(client, capsys):
    from django.core.management import call_command

    from tests.deliverables.test_reminders import _deliverable, _project

    user = UserFactory(first_name="Kenji", last_name="Ito")
    ReminderPreference.objects.create(user=user, **{**SAVED, "paused_until": date(2026, 11, 1)})
    _deliverable(_project(), user, date(2026, 11, 20))
    client.force_login(user)
    data = {**_page_form(client), "hour": ["8"]}
    assert client.post(reverse(URL), data).status_code == 302
    # 09:30 in Tokyo on a Monday: past the new hour, on a working day, after the pause.
    call_command("send_reminders", "--dry-run", "--now", "2026-11-30T00:30:00+00:00")
    assert f"Kenji Ito <{user.email}> (2026-11-30, ja): 1 item" in capsys.readouterr().out


def test_saving_writes_only_what_the_person_changed(client):
    """Someone else (an admin) changed the time zone after the page was drawn: a
    save that changes only the hour keeps the admin's time zone."""
    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    data = _page_form(client)
    ReminderPreference.objects.filter(user=user).update(time_zone="Europe/Berlin")
    data["hour"] = ["6"]
    assert client.post(reverse(URL), data).status_code == 302
    assert _saved(user) == {**SAVED, "hour": 6, "time_zone": "Europe/Berlin"}


def test_a_save_drawn_before_an_admin_change_is_re_offered_over_it(client):
    """An admin changed the time zone (through the service, so the version moved)
    after the page was drawn: the person's save of the hour is refused, the form
    comes back with the admin's time zone and their own hour, and saving it keeps both."""
    from deliverables.services import reminder_preference_update

    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    data = _page_form(client)
    reminder_preference_update(user=user, changes={"time_zone": "Europe/Berlin"}, version=None)
    data["hour"] = ["6"]
    response = client.post(reverse(URL), data)
    assert response.status_code == 409
    assert _saved(user) == {**SAVED, "time_zone": "Europe/Berlin"}  # nothing of the refused save
    parser = _FormValues()
    parser.feed(response.content.decode())
    offered = parser.values
    assert offered["hour"] == ["6"] and offered["time_zone"] == ["Europe/Berlin"]
    assert "Changed by someone else meanwhile" in response.content.decode()
    assert client.post(reverse(URL), offered).status_code == 302
    assert _saved(user) == {**SAVED, "hour": 6, "time_zone": "Europe/Berlin"}


def test_a_person_without_settings_sees_the_defaults_and_saving_them_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    drawn = _drawn(client)
    assert drawn["working_days"] == ["0", "1", "2", "3", "4"]
    assert drawn["hour"] == ["9"]
    assert drawn["language"] == [""]  # same as my interface language
    assert client.post(reverse(URL), _page_form(client)).status_code == 302
    assert not ReminderPreference.objects.filter(user=user).exists()
    preference = reminders.preference_for(user)
    assert (preference.working_days, preference.hour, preference.language) == ("0,1,2,3,4", 9, "")


@pytest.mark.parametrize("days", [["7"], ["x"], ["-1"]])
def test_bad_working_days_are_refused_and_nothing_is_saved(client, days):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    data = {**_page_form(client), "working_days": days, "hour": ["3"]}
    response = client.post(reverse(URL), data)
    assert response.status_code == 422
    assert _saved(user) == SAVED


def test_working_days_field_converts_both_ways():
    field = forms.WorkingDaysField()
    assert field.prepare_value("0,3,6") == [0, 3, 6]
    assert field.prepare_value("") == []
    assert field.prepare_value([2, 1]) == [2, 1]
    assert field.clean(["3", "0", "3"]) == "0,3"
    assert field.clean([]) == ""
    assert not field.has_changed("0,1", ["1", "0"])
    assert field.has_changed("0,1", ["1"])


def test_the_form_is_drawn_from_the_saved_preference():
    preference = ReminderPreference(**SAVED)
    form = forms.ReminderPreferenceForm(instance=preference)
    assert form["working_days"].value() == [0, 1, 2, 3, 4, 5, 6]


# --- languages ----------------------------------------------------------------------------


def test_switching_language_signed_in_remembers_it(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    preference = ReminderPreference.objects.get(user=user)
    # A new row holds the defaults for everything else.
    assert (preference.interface_language, preference.hour, preference.working_days) == (
        "ja",
        9,
        "0,1,2,3,4",
    )
    assert preference.language == "" and preference.email_language == "ja"


def test_switching_language_keeps_the_other_settings(client):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, **SAVED)
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert _saved(user) == SAVED
    assert ReminderPreference.objects.get(user=user).interface_language == "en"


@pytest.mark.parametrize("language", ["fr", "xx", "j" * 500, ""])
def test_an_unknown_language_is_not_remembered(client, language):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    assert not ReminderPreference.objects.filter(user=user).exists()


def test_switching_language_signed_out_stores_nothing(client):
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert not ReminderPreference.objects.exists()


def _sign_in(client, user):
    return client.post(reverse("login"), {"login": user.username, "password": PASSWORD})


def test_signing_in_on_a_new_browser_applies_the_remembered_language(client):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, interface_language="ja")
    response = _sign_in(client, user)
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert client.get("/").content.decode().count('lang="ja"') == 1


def test_a_language_chosen_before_signing_in_wins_and_is_remembered(client):
    user = UserFactory()
    ReminderPreference.objects.create(user=user, interface_language="en")
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    response = _sign_in(client, user)
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert ReminderPreference.objects.get(user=user).interface_language == "ja"


def test_signing_in_without_a_remembered_language_sets_nothing(client):
    user = UserFactory()
    response = _sign_in(client, user)
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert not ReminderPreference.objects.exists()


def test_a_failed_sign_in_remembers_nothing(client):
    user = UserFactory()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.post(reverse("login"), {"login": user.username, "password": "wrong"})
    assert response.status_code == 200
    assert not ReminderPreference.objects.exists()


MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _digest_after_switching(client, settings, capture, *, email_language: str | None):
    """An owner of overdue work switches the interface to Japanese; their digest."""
    from tests.deliverables.test_reminders import _deliverable, _project

    settings.TIME_ZONE = "UTC"
    owner = UserFactory()
    if email_language is not None:
        ReminderPreference.objects.create(user=owner, language=email_language)
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    _deliverable(_project(), owner, date(2026, 11, 25))
    with capture(execute=True):
        reminders.reminder_sweep(
            now=MONDAY_0930_UTC,
            send=lambda pk: reminders.digest_send(digest_id=pk, now=MONDAY_0930_UTC),
        )
    (message,) = [m for m in mail.outbox if m.to == [owner.email]]
    return message


def test_a_japanese_interface_user_with_default_settings_gets_a_japanese_digest(
    client, settings, django_capture_on_commit_callbacks
):
    message = _digest_after_switching(
        client, settings, django_capture_on_commit_callbacks, email_language=None
    )
    assert "Overdue" not in message.body and "期限切れ" in message.body
    assert "overdue" not in message.subject


def test_a_japanese_interface_user_who_chose_english_emails_gets_english(
    client, settings, django_capture_on_commit_callbacks
):
    message = _digest_after_switching(
        client, settings, django_capture_on_commit_callbacks, email_language="en"
    )
    assert "Overdue" in message.body and "1 overdue" in message.subject
