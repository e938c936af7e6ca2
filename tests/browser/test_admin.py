"""Headless Chromium in the Django admin: the site's CSP lets the admin's own
scripts run (django-celery-beat's crontab description, slug prepopulation), and
a stale change form is refused on the page."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule

from deliverables.models import Deliverable
from deliverables.services import deliverable_create, deliverable_update
from roles.models import Role
from roles.services import project_create
from tests.factories import PASSWORD, UserFactory, deliverable_type

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _admin_sign_in(page, url):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    # The admin signs in through the product's sign-in (second factor included).
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.get_by_label("Username or email").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/admin/")
    return root


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_crontab_schedules_show_their_description_without_csp_errors(live_server, page):
    crontab = CrontabSchedule.objects.create(minute="30", hour="9", day_of_week="1-5")
    _admin_sign_in(page, live_server.url)
    errors = _console_errors(page)

    page.goto(f"{live_server.url}/admin/django_celery_beat/crontabschedule/{crontab.pk}/change/")
    assert crontab.human_readable in page.locator(".field-human_readable").inner_text()

    page.goto(f"{live_server.url}/admin/django_celery_beat/periodictask/add/")
    page.locator("#id_crontab").select_option(str(crontab.pk))
    help_text = page.locator(".field-crontab .help")
    help_text.filter(has_text=crontab.human_readable).wait_for()
    assert "Crontab Schedule to run the task on" in help_text.inner_text()
    assert errors == []


def test_role_and_deliverable_type_slugs_fill_from_their_names(live_server, page):
    _admin_sign_in(page, live_server.url)
    errors = _console_errors(page)

    page.goto(f"{live_server.url}/admin/roles/role/add/")
    page.locator("#id_name").press_sequentially("Data steward")
    assert page.locator("#id_slug").input_value() == "data-steward"
    page.locator(".add-row a", has_text="Add another Deliverable type").click()
    page.locator("#id_deliverable_types-0-name").press_sequentially("Data catalogue entry")
    assert page.locator("#id_deliverable_types-0-slug").input_value() == "data-catalogue-entry"
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".messagelist .success").wait_for()
    assert Role.objects.get(slug="data-steward").deliverable_types.get().slug == (
        "data-catalogue-entry"
    )

    page.goto(f"{live_server.url}/admin/deliverables/deliverabletype/add/")
    page.locator("#id_name").press_sequentially("Bias audit")
    assert page.locator("#id_slug").input_value() == "bias-audit"
    assert errors == []


def test_no_admin_page_breaks_the_csp(live_server, page):
    """Every model's list and add page (and a change page) run without a script or
    style the site's CSP refuses."""
    crontab = CrontabSchedule.objects.create(minute="0", hour="7")
    request = SimpleNamespace(user=_admin_sign_in(page, live_server.url))
    errors = _console_errors(page)
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:{}_{}_add".format(*info)))
    urls.append(reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk]))
    seen = []
    for url in urls:
        page.goto(live_server.url + url)
        seen += [f"{url}: {error}" for error in errors]
        errors.clear()
    assert seen == []


def test_a_stale_admin_save_is_refused_on_the_form(live_server, page):
    """An admin opens a deliverable; its manager moves the due date in the app; the
    admin's rename is refused with the reason, and the manager's date stays."""
    _admin_sign_in(page, live_server.url)
    manager = UserFactory(username="hiro")
    project = project_create(name="Churn prediction", actor=manager, managers=[manager])
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), due_date=date(2026, 9, 1), actor=manager
    )
    page.goto(f"{live_server.url}/admin/deliverables/deliverable/{deliverable.pk}/change/")
    deliverable_update(
        deliverable=deliverable,
        actor=manager,
        version=deliverable.version,
        title="",
        owner=None,
        due_date=date(2026, 10, 1),
        type=deliverable.type,
    )

    page.locator("#id_title").fill("Renamed in a stale form")
    page.get_by_role("button", name="Save", exact=True).click()

    page.locator(".errornote").wait_for()
    assert "after you opened this page, so nothing was saved" in (
        page.locator("ul.errorlist.nonfield").inner_text()
    )
    fresh = Deliverable.objects.get(pk=deliverable.pk)
    assert (fresh.title, fresh.due_date) == ("", date(2026, 10, 1))


def test_archiving_projects_asks_first_and_takes_me_back_when_i_say_no(live_server, page):
    """The admin's replacement for deleting a project: its confirmation page (and
    Django's cancel.js behind "No, take me back") under the CSP, then the archive."""
    from roles.models import Project, TeamChange, TeamChangeAction
    from roles.services import project_create

    root = _admin_sign_in(page, live_server.url)
    project = project_create(name="Churn", actor=root)
    errors = _console_errors(page)
    changelist = f"{live_server.url}/admin/roles/project/"

    def choose_archive():
        page.goto(changelist)
        page.locator(f"input[name=_selected_action][value='{project.pk}']").check()
        page.locator("select[name=action]").select_option("archive_selected")
        page.get_by_role("button", name="Go").click()
        page.get_by_text("Archive these projects?").wait_for()

    choose_archive()
    page.get_by_role("link", name="No, take me back").click()
    page.wait_for_url(changelist)
    assert Project.objects.get(pk=project.pk).archived_at is None

    choose_archive()
    page.get_by_role("button", name="Archive").click()
    page.locator(".messagelist .success", has_text="Archived 1 project.").wait_for()
    assert Project.objects.get(pk=project.pk).archived_at is not None
    assert TeamChange.objects.filter(
        project=project, actor=root, action=TeamChangeAction.PROJECT_ARCHIVED
    ).exists()
    assert "Delete selected" not in page.locator("select[name=action]").inner_text()
    assert errors == []
