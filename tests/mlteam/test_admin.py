"""The Django admin: our favicon on its pages, and the catalogue forms admins use."""

from __future__ import annotations

import re

import pytest
from django.templatetags.static import static
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule

from deliverables.forms import ReminderPreferenceForm
from deliverables.models import ReminderPreference
from deliverables.services import deliverable_create
from roles.models import Role, TeamChange, TeamChangeAction
from roles.services import project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _favicon() -> str:
    return f'<link rel="icon" href="{static("favicon.svg")}" type="image/svg+xml">'


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("admin:index"),
        lambda: reverse("admin:roles_role_changelist"),
        lambda: reverse("admin:roles_role_add"),
        lambda: reverse("admin:deliverables_reminderpreference_add"),
        lambda: reverse("admin:django_celery_beat_periodictask_add"),
        lambda: reverse(
            "admin:django_celery_beat_crontabschedule_change",
            args=[CrontabSchedule.objects.create(minute="30", hour="9").pk],
        ),
    ],
    ids=["index", "changelist", "add", "reminder", "periodic-task", "crontab"],
)
def test_admin_pages_link_our_favicon(client, superuser, url):
    client.force_login(superuser)
    response = client.get(url())
    assert response.status_code == 200
    assert _favicon() in response.content.decode()


def test_admin_sign_in_is_the_products_sign_in_which_links_our_favicon(client):
    response = client.get(reverse("admin:login"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert _favicon() in response.content.decode()


# --- catalogue: slugs


def test_a_taken_role_slug_is_refused_with_a_clear_error(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:roles_role_add"),
        {
            "name": "Data steward",
            "slug": "ml-engineer",
            "position": 0,
            "deliverable_types-TOTAL_FORMS": 0,
            "deliverable_types-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "Role with this Slug already exists." in response.content.decode()
    assert not Role.objects.filter(name="Data steward").exists()


def test_deliverable_type_rows_on_a_role_fill_their_slug_from_the_name(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:roles_role_add"))
    [inline] = response.context["inline_admin_formsets"]
    assert inline.prepopulated_fields == {"slug": ["name"]}
    # The new row's template carries the wiring prepopulate.js reads.
    assert "#id_deliverable_types-__prefix__-slug" in response.content.decode()


def test_a_taken_deliverable_type_slug_on_a_role_is_refused(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:roles_role_add"),
        {
            "name": "Data steward",
            "slug": "data-steward",
            "position": 0,
            "deliverable_types-TOTAL_FORMS": 1,
            "deliverable_types-INITIAL_FORMS": 0,
            "deliverable_types-0-name": "Data catalogue",
            "deliverable_types-0-slug": "deployed-model",
            "deliverable_types-0-default_due_offset_days": 30,
            "deliverable_types-0-position": 0,
        },
    )
    assert response.status_code == 200
    assert "Deliverable type with this Slug already exists." in response.content.decode()
    assert not Role.objects.filter(slug="data-steward").exists()


# --- reminder preferences: day checkboxes and a searchable time zone


def _preference_data(user, **overrides):
    data = {
        "user": user.pk,
        "hour": 8,
        "time_zone": "Asia/Tokyo",
        "working_days": ["0", "2", "4"],
        "due_soon_days": 3,
        "paused_until": "",
        "language": "ja",
    }
    return data | overrides


def test_reminder_preference_admin_edits_working_days_as_checkboxes(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:deliverables_reminderpreference_add"))
    form = response.context["adminform"].form
    assert isinstance(form, ReminderPreferenceForm)
    html = response.content.decode()
    for day in range(7):
        assert f'type="checkbox" name="working_days" value="{day}"' in html
    assert 'name="time_zone"' in html and 'list="id_time_zone_list"' in html
    assert '<datalist id="id_time_zone_list">' in html
    assert '<option value="Asia/Tokyo">' in html


def test_reminder_preference_admin_saves_days_and_zone(client, superuser, member):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:deliverables_reminderpreference_add"), _preference_data(member)
    )
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(user=member)
    assert (preference.working_days, preference.time_zone, preference.hour) == (
        "0,2,4",
        "Asia/Tokyo",
        8,
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Asia/Tokyo; DROP"])
def test_reminder_preference_admin_refuses_unknown_time_zones(client, superuser, member, zone):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:deliverables_reminderpreference_add"),
        _preference_data(member, time_zone=zone),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["time_zone"]
    assert not ReminderPreference.objects.filter(user=member).exists()


def test_reminder_preference_admin_refuses_unknown_days(client, superuser, member):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:deliverables_reminderpreference_add"),
        _preference_data(member, working_days=["0", "9"]),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["working_days"]
    assert not ReminderPreference.objects.filter(user=member).exists()


def test_time_zones_are_matched_whatever_the_case(client, superuser, member):
    client.force_login(superuser)
    client.post(
        reverse("admin:deliverables_reminderpreference_add"),
        _preference_data(member, time_zone=" asia/tokyo "),
    )
    assert ReminderPreference.objects.get(user=member).time_zone == "Asia/Tokyo"


def test_the_settings_page_offers_the_same_searchable_time_zone(client, member):
    client.force_login(member)
    url = reverse("deliverables:reminder_preferences")
    html = client.get(url).content.decode()
    assert 'list="id_time_zone_list"' in html and '<option value="Europe/Paris">' in html
    data = _preference_data(member, time_zone="Nowhere/Atlantis")
    del data["user"]
    response = client.post(url, data)
    assert response.status_code == 422
    assert "Nowhere/Atlantis is not a time zone" in response.content.decode()


def test_a_scheduled_task_shows_its_registered_task_as_chosen(client, superuser):
    """The reminder sweep's schedule opens with deliverables.reminder_sweep chosen in
    "Task (registered)", and saving it unchanged keeps the task."""
    from django_celery_beat.models import PeriodicTask

    from tests.html_forms import form_data

    sweep = PeriodicTask.objects.get(task="deliverables.reminder_sweep")
    client.force_login(superuser)
    url = reverse("admin:django_celery_beat_periodictask_change", args=[sweep.pk])
    page = client.get(url).content.decode()
    assert '<option value="deliverables.reminder_sweep" selected>' in page
    data = form_data(page)
    data["_save"] = ["Save"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    sweep.refresh_from_db()
    assert sweep.task == "deliverables.reminder_sweep"


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("Tokyo", "Asia/Tokyo"), ("new york", "America/New_York"), ("UTC", "UTC")],
)
def test_a_city_alone_is_the_zone_named_after_it(typed, saved):
    """The help text says to type a city: the city alone is enough when one zone
    is named after it."""
    from mlteam.forms import TimeZoneField

    assert TimeZoneField().clean(typed) == saved


def test_a_name_shared_by_no_zone_is_still_refused():
    from django.core.exceptions import ValidationError

    from mlteam.forms import TimeZoneField

    with pytest.raises(ValidationError):
        TimeZoneField().clean("Atlantis")


# --- history pages: an empty value reads "-"


def test_history_change_pages_show_an_empty_value_as_a_dash(client, superuser):
    """The admin's change pages of a team change and a deliverable change word the
    stored values; one with nothing to say reads as the admin's "-", not blank
    (as the stored text columns read before history kept structured values)."""
    manager = manager_user(username="mina")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    created = TeamChange.objects.get(project=project, action=TeamChangeAction.PROJECT_CREATED)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("analysis-report"), title="", actor=manager
    )
    planned = deliverable.events.get()
    client.force_login(superuser)

    for obj, fields in [(created, ["detail", "what_changed"]), (planned, ["before", "after"])]:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        html = client.get(url).content.decode()
        for field in fields:
            shown = re.search(rf'field-{field}".*?<div class="readonly">(.*?)</div>', html, re.S)
            assert shown[1] == "-", (obj._meta.model_name, field, shown[1])
