"""A project's history says what an edit changed: each field with its value before
and after, whether the edit came from the app, the admin or the handbook page."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from deliverables.practices.services import handbook_review_date_set
from mlteam.services import person_anonymise
from roles.models import ProjectStatus, TeamChange, TeamChangeAction
from roles.services import project_create, project_update
from tests.factories import UserFactory, manager_user, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    manager = manager_user(username="hiro", first_name="Hiro", last_name="Sato")
    return project_create(name="Churn", actor=manager, managers=[manager])


def _last_edit(project) -> TeamChange:
    return TeamChange.objects.filter(
        project=project, action=TeamChangeAction.PROJECT_UPDATED
    ).latest("pk")


def test_an_edit_records_each_changed_field_before_and_after(project):
    other = UserFactory(username="aiko", first_name="Aiko", last_name="Mori")
    hiro = project.managers.get()
    project_update(
        project=project,
        actor=hiro,
        version=project.version,
        name="Churn prediction",
        status=ProjectStatus.ACTIVE,
        target_date=date(2027, 3, 31),
        business_problem="Keep more customers.",
        escalation_days=project.escalation_days,  # unchanged: not recorded
        managers=[hiro, other],
        required_roles=[role("ml-engineer")],
    )
    changes = _last_edit(project).changes
    assert changes["name"] == ["Churn", "Churn prediction"]
    assert changes["status"][1] == ProjectStatus.ACTIVE
    assert changes["target_date"] == [None, "2027-03-31"]
    assert changes["business_problem"] is None  # long text: only that it changed
    assert changes["managers"] == [["Hiro Sato"], ["Aiko Mori", "Hiro Sato"]]
    assert changes["required_roles"][1] == [role("ml-engineer").name]
    assert "escalation_days" not in changes
    with translation.override("en"):
        lines = {
            field: (before, after) for field, before, after in _last_edit(project).change_lines()
        }
    assert lines["name"] == ("Churn", "Churn prediction")
    assert lines["target date"] == ("—", "Mar 31, 2027")
    assert lines["business problem"] == ("", "")


def test_the_handbook_review_date_is_recorded_as_a_project_edit(project):
    hiro = project.managers.get()
    handbook_review_date_set(
        project=project, actor=hiro, review_on=date(2027, 1, 15), version=project.version
    )
    entry = _last_edit(project)
    assert entry.actor == hiro
    assert entry.changes == {"handbook_review_on": [None, "2027-01-15"]}


def test_the_activity_page_shows_what_changed(client, project):
    hiro = project.managers.get()
    project_update(project=project, actor=hiro, version=project.version, name="Churn v2")
    client.force_login(hiro)
    page = client.get(reverse("roles:project_activity", args=[project.pk])).content.decode()
    assert "name: Churn → Churn v2" in page


def test_anonymising_a_manager_renames_them_in_recorded_manager_changes(project):
    hiro = project.managers.get()
    aiko = UserFactory(username="aiko", first_name="Aiko", last_name="Mori")
    project_update(project=project, actor=hiro, version=project.version, managers=[hiro, aiko])
    person_anonymise(user=aiko, reason="Data-protection request")
    before, after = _last_edit(project).changes["managers"]
    assert "Aiko Mori" not in before + after
    assert f"former-member-{aiko.pk}" in after


def test_an_edit_that_changes_nothing_records_nothing(project):
    hiro = project.managers.get()
    before = TeamChange.objects.count()
    project_update(
        project=project, actor=hiro, version=project.version, name="Churn", managers=[hiro]
    )
    assert TeamChange.objects.count() == before  # no bare "edited the project"


def test_saving_the_project_form_unchanged_writes_nothing(client, project):
    """Nothing changed: no history entry and the same version, so a manager's form
    drawn meanwhile is not refused because of it."""
    from tests.html_forms import form_data

    hiro = project.managers.get()
    client.force_login(hiro)
    url = reverse("roles:project_edit", args=[project.pk])
    drawn = form_data(client.get(url).content.decode())
    version, changes = project.version, TeamChange.objects.count()

    response = client.post(url, drawn)

    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.version, TeamChange.objects.count()) == (version, changes)
    # A change saved from the same page still records only what changed.
    response = client.post(url, {**drawn, "name": ["Churn v2"]})
    assert response.status_code == 302
    assert _last_edit(project).changes == {"name": ["Churn", "Churn v2"]}


def test_saving_the_handbook_review_date_unchanged_writes_nothing(client, project):
    from deliverables.services import deliverable_create
    from tests.factories import deliverable_type
    from tests.html_forms import form_data

    hiro = project.managers.get()
    deliverable_create(project=project, type=deliverable_type("process-documentation"), actor=hiro)
    handbook_review_date_set(project=project, actor=hiro, review_on=date(2027, 1, 15), version=None)
    client.force_login(hiro)
    action = reverse("practices:handbook_review_date", args=[project.pk])
    page = client.get(reverse("practices:handbook", args=[project.pk])).content.decode()
    drawn = form_data(page, action=action)
    project.refresh_from_db()
    version, changes = project.version, TeamChange.objects.count()

    assert client.post(action, drawn).status_code == 302

    project.refresh_from_db()
    assert (project.version, TeamChange.objects.count()) == (version, changes)
    assert client.post(action, {**drawn, "review_on": ["2027-02-01"]}).status_code == 302
    assert _last_edit(project).changes == {"handbook_review_on": ["2027-01-15", "2027-02-01"]}
