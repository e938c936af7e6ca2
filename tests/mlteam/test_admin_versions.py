"""The Django admin saves through the services: its change forms carry the version
they were drawn from and refuse a stale save (in both directions with the app),
its saves record the same history as the app's, and a status change follows the
workflow."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections
from django.urls import reverse

from deliverables import services as deliverable_services
from deliverables.models import (
    ChecklistItemTemplate,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    DeliverableType,
    EventKind,
)
from deliverables.practices import services as practices
from deliverables.reviews import services as reviews_services
from deliverables.reviews.models import ReviewCycle
from roles import services as team
from roles.models import Membership, Project, Role, RoleAssignment, TeamChange, TeamChangeAction
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, role
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db

STALE = "after you opened this page, so nothing was saved"


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def project(manager):
    return team.project_create(name="Churn prediction", actor=manager, managers=[manager])


@pytest.fixture
def owner(project, manager):
    person = UserFactory(username="aiko")
    team.membership_add(project=project, user=person, actor=manager)
    return person


@pytest.fixture
def deliverable(project, owner, manager):
    return deliverable_services.deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        owner=owner,
        due_date=date(2026, 9, 1),
        status=DeliverableStatus.IN_PROGRESS,
        actor=manager,
    )


def _admin_url(obj, action="change") -> str:
    info = (obj._meta.app_label, obj._meta.model_name)
    return reverse("admin:{}_{}_{}".format(*info, action), args=[obj.pk])


def _drawn(client, url: str, *, action: str | None = None) -> dict[str, list[str]]:
    """What the browser would send back from the page at `url`, as drawn now."""
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode(), action=action)


def _save(client, url: str, data: dict, **changes):
    data = dict(data) | {name: [str(value)] for name, value in changes.items()}
    data["_save"] = ["Save"]
    return client.post(url, data)


def _save_fresh(client, url: str, **changes):
    """Open the admin page and save it at once with `changes` (a save that is not stale)."""
    return _save(client, url, _drawn(client, url), **changes)


def _refused(response) -> str:
    assert response.status_code == 200, "the form is shown again, not a redirect or a 500"
    html = response.content.decode()
    assert 'class="errornote"' in html
    return html


# --- every versioned admin form refuses a stale save ---------------------------------------


def test_a_stale_deliverable_form_cannot_put_the_status_back(client, root, deliverable, owner):
    """The fault found by the try-out: an admin form drawn while the deliverable was in
    progress, saved after the owner sent it for review, put the status back silently."""
    client.force_login(root)
    url = _admin_url(deliverable)
    drawn = _drawn(client, url)
    deliverable_services.deliverable_transition(
        deliverable=deliverable,
        actor=owner,
        to_status=DeliverableStatus.IN_REVIEW,
        version=deliverable.version,
    )
    events = DeliverableEvent.objects.count()

    html = _refused(_save(client, url, drawn, due_date="2026-10-01"))

    assert STALE in html and "deliverable “Deployed model" in html
    # A way out: reloading would post the same stale form again.
    assert f'<a href="{url}">Open the current version</a>' in html
    fresh = Deliverable.objects.get(pk=deliverable.pk)
    assert (fresh.status, fresh.due_date) == (DeliverableStatus.IN_REVIEW, date(2026, 9, 1))
    assert fresh.version == deliverable.version
    assert DeliverableEvent.objects.count() == events


def test_a_stale_project_form_is_refused(client, root, project, manager):
    client.force_login(root)
    url = _admin_url(project)
    drawn = _drawn(client, url)
    team.project_update(project=project, actor=manager, version=project.version, name="Churn v2")

    html = _refused(_save(client, url, drawn, escalation_days=9))

    assert STALE in html
    fresh = Project.objects.get(pk=project.pk)
    assert (fresh.name, fresh.escalation_days, fresh.version) == ("Churn v2", 3, project.version)


def test_a_stale_reminder_preference_form_is_refused_and_a_fresh_one_saves(client, root, owner):
    """An admin's form drawn before the person changed their settings on their page
    is refused; saved afresh, it goes through the same service (the version moves)."""
    from deliverables.models import ReminderPreference
    from deliverables.services import reminder_preference_update

    preference = reminder_preference_update(user=owner, changes={"hour": 7}, version=None)
    client.force_login(root)
    url = _admin_url(preference)
    drawn = _drawn(client, url)
    reminder_preference_update(user=owner, changes={"hour": 8}, version=preference.version)

    _refused(_save(client, url, drawn, due_soon_days=9))
    fresh = ReminderPreference.objects.get(pk=preference.pk)
    assert (fresh.hour, fresh.due_soon_days) == (8, 3)

    assert _save_fresh(client, url, due_soon_days=9).status_code == 302
    saved = ReminderPreference.objects.get(pk=preference.pk)
    assert (saved.hour, saved.due_soon_days, saved.version) == (8, 9, fresh.version + 1)


def test_a_stale_handbook_review_date_from_the_admin_is_refused(client, root, project, manager):
    client.force_login(root)
    url = _admin_url(project)
    drawn = _drawn(client, url)
    practices.handbook_review_date_set(
        project=project, actor=manager, review_on=date(2026, 12, 1), version=project.version
    )

    _refused(_save(client, url, drawn, handbook_review_on="2027-01-15"))

    assert Project.objects.get(pk=project.pk).handbook_review_on == date(2026, 12, 1)


def test_a_stale_role_assignment_form_is_refused(client, root, project, owner, manager):
    membership = Membership.objects.get(project=project, user=owner)
    assignment = team.role_assign(
        membership=membership, role=role("ml-engineer"), allocation_percent=50, actor=manager
    )
    client.force_login(root)
    url = _admin_url(assignment)
    drawn = _drawn(client, url)
    team.assignment_update(
        assignment=assignment, allocation_percent=40, actor=manager, version=None
    )

    html = _refused(_save(client, url, drawn, allocation_percent=80))

    assert STALE in html and "project “Churn prediction”" in html
    assert RoleAssignment.objects.get(pk=assignment.pk).allocation_percent == 40


def test_a_stale_membership_form_is_refused(client, root, project, owner, manager):
    membership = Membership.objects.get(project=project, user=owner)
    client.force_login(root)
    url = _admin_url(membership)
    drawn = _drawn(client, url)
    team.role_assign(membership=membership, role=role("data-scientist"), actor=manager)

    assert STALE in _refused(_save(client, url, drawn))


def test_a_stale_review_cycle_form_is_refused(client, root, manager):
    cycle = reviews_services.cycle_create(
        actor=manager,
        name="2026 H2",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 12, 31),
        expectations_due_days=14,
    )
    client.force_login(root)
    url = _admin_url(cycle)
    drawn = _drawn(client, url)
    reviews_services.cycle_update(
        cycle=cycle,
        version=cycle.version,
        name="Second half 2026",
        start_date=cycle.start_date,
        end_date=cycle.end_date,
        expectations_due_days=14,
    )

    _refused(_save(client, url, drawn, expectations_due_days=21))

    fresh = ReviewCycle.objects.get(pk=cycle.pk)
    assert (fresh.name, fresh.expectations_due_days) == ("Second half 2026", 14)


def test_a_stale_role_form_is_refused(client, root):
    engineer = role("ml-engineer")
    client.force_login(root)
    url = _admin_url(engineer)
    drawn = _drawn(client, url)
    team.role_update(role=engineer, version=engineer.version, summary="Ships models.")

    html = _refused(_save(client, url, drawn, position=99))

    assert STALE in html
    fresh = Role.objects.get(pk=engineer.pk)
    assert (fresh.summary, fresh.position) == ("Ships models.", engineer.position)


def test_a_stale_deliverable_type_form_is_refused_when_its_checklist_changed(client, root):
    prd = deliverable_type("prd")
    client.force_login(root)
    url = _admin_url(prd)
    drawn = _drawn(client, url)
    # Another admin adds an item on the item's own page: the type's version moves.
    items = prd.checklist_items.count()
    deliverable_services.checklist_template_add(
        deliverable_type=prd, version=None, text="Privacy review done"
    )

    html = _refused(_save(client, url, drawn, default_due_offset_days=45))

    assert STALE in html
    fresh = DeliverableType.objects.get(pk=prd.pk)
    assert fresh.default_due_offset_days == prd.default_due_offset_days
    assert fresh.checklist_items.count() == items + 1


def test_a_stale_checklist_template_form_is_refused(client, root):
    prd = deliverable_type("prd")
    item = prd.checklist_items.first()
    client.force_login(root)
    url = _admin_url(item)
    drawn = _drawn(client, url)
    deliverable_services.deliverable_type_update(
        deliverable_type=prd, version=prd.version, description="What the product must do."
    )

    html = _refused(_save(client, url, drawn, text="Reworded in a stale form"))

    assert STALE in html and "deliverable type “" in html
    assert ChecklistItemTemplate.objects.get(pk=item.pk).text == item.text


def test_a_stale_deliverable_type_row_on_the_role_form_is_refused(client, root):
    engineer = role("ml-engineer")
    client.force_login(root)
    url = _admin_url(engineer)
    drawn = _drawn(client, url)
    model = engineer.deliverable_types.order_by("position", "name").first()
    deliverable_services.deliverable_type_update(
        deliverable_type=model, version=None, default_due_offset_days=77
    )

    html = _refused(_save(client, url, drawn, **{"deliverable_types-0-position": 5}))

    assert STALE in html
    assert DeliverableType.objects.get(pk=model.pk).default_due_offset_days == 77


@pytest.mark.parametrize("version", ["", "abc", "99999999999", "-1"])
def test_a_missing_or_mangled_version_is_refused_visibly(client, root, deliverable, version):
    client.force_login(root)
    url = _admin_url(deliverable)

    html = _refused(_save_fresh(client, url, version=version, title="Renamed"))

    assert STALE in html
    assert Deliverable.objects.get(pk=deliverable.pk).title == ""


# --- and an app form drawn before an admin save is refused afterwards ---------------------


def test_the_app_deliverable_form_drawn_before_an_admin_save_is_refused(
    client, root, manager, deliverable
):
    client.force_login(manager)
    app_url = reverse("deliverables:edit", args=[deliverable.pk])
    app_form = _drawn(client, app_url)
    client.force_login(root)
    assert _save_fresh(client, _admin_url(deliverable), title="Churn model v2").status_code == 302

    client.force_login(manager)
    response = client.post(app_url, app_form | {"due_date": ["2026-12-24"]})

    assert response.status_code == 409
    fresh = Deliverable.objects.get(pk=deliverable.pk)
    assert (fresh.title, fresh.due_date) == ("Churn model v2", date(2026, 9, 1))


def test_the_app_project_form_drawn_before_an_admin_save_is_refused(client, root, manager, project):
    client.force_login(manager)
    app_url = reverse("roles:project_edit", args=[project.pk])
    app_form = _drawn(client, app_url)
    client.force_login(root)
    assert _save_fresh(client, _admin_url(project), name="Churn (admin)").status_code == 302

    client.force_login(manager)
    response = client.post(app_url, app_form | {"business_problem": ["Changed in the app."]})

    assert "Someone else changed this project" in response.content.decode()
    fresh = Project.objects.get(pk=project.pk)
    assert (fresh.name, fresh.business_problem) == ("Churn (admin)", project.business_problem)


def test_the_app_handbook_date_drawn_before_an_admin_save_is_refused(
    client, root, manager, project
):
    deliverable_services.deliverable_create(
        project=project, type=deliverable_type("process-documentation"), actor=manager
    )
    client.force_login(manager)
    handbook_url = reverse("practices:handbook", args=[project.pk])
    date_url = reverse("practices:handbook_review_date", args=[project.pk])
    app_form = _drawn(client, handbook_url, action=date_url)
    client.force_login(root)
    response = _save_fresh(client, _admin_url(project), handbook_review_on="2027-03-01")
    assert response.status_code == 302

    client.force_login(manager)
    response = client.post(date_url, app_form | {"review_on": ["2027-06-30"]})

    assert response.status_code == 400
    assert "Someone else changed this project" in response.content.decode()
    assert Project.objects.get(pk=project.pk).handbook_review_on == date(2027, 3, 1)


def test_the_app_allocation_form_drawn_before_an_admin_save_is_refused(
    client, root, manager, project, owner
):
    membership = Membership.objects.get(project=project, user=owner)
    assignment = team.role_assign(membership=membership, role=role("ml-engineer"), actor=manager)
    client.force_login(manager)
    app_url = reverse("roles:assignment_edit", args=[project.pk, assignment.pk])
    app_form = _drawn(client, app_url)
    client.force_login(root)
    assert _save_fresh(client, _admin_url(assignment), allocation_percent=60).status_code == 302

    client.force_login(manager)
    response = client.post(app_url, app_form | {"allocation_percent": ["20"]})

    assert response.status_code == 422
    assert RoleAssignment.objects.get(pk=assignment.pk).allocation_percent == 60


def test_the_app_cycle_form_drawn_before_an_admin_save_is_refused(client, root, manager):
    cycle = reviews_services.cycle_create(
        actor=manager,
        name="2026 H2",
        start_date=date(2026, 7, 1),
        end_date=date(2026, 12, 31),
        expectations_due_days=14,
    )
    client.force_login(manager)
    app_url = reverse("reviews:cycle_edit", args=[cycle.pk])
    app_form = _drawn(client, app_url)
    client.force_login(root)
    assert _save_fresh(client, _admin_url(cycle), name="H2 (admin)").status_code == 302

    client.force_login(manager)
    response = client.post(app_url, app_form | {"expectations_due_days": ["30"]})

    assert response.status_code == 400
    fresh = ReviewCycle.objects.get(pk=cycle.pk)
    assert (fresh.name, fresh.expectations_due_days) == ("H2 (admin)", 14)


# --- admin saves record the app's history --------------------------------------------------


def test_an_admin_edit_of_a_deliverable_records_who_changed_what(
    client, root, deliverable, project, manager
):
    newcomer = UserFactory(username="ben", first_name="Ben", last_name="Ito")
    team.membership_add(project=project, user=newcomer, actor=manager)
    deliverable.refresh_from_db()
    client.force_login(root)

    response = _save_fresh(
        client,
        _admin_url(deliverable),
        title="Churn model v2",
        owner=newcomer.pk,
        due_date="2026-10-15",
    )

    assert response.status_code == 302
    changes = {
        event.kind: (event.actor, event.payload.get("before"), event.payload.get("after"))
        for event in DeliverableEvent.objects.filter(deliverable=deliverable).exclude(
            kind=EventKind.CREATED
        )
    }
    assert changes == {
        EventKind.TITLE: (root, None, {"text": "Churn model v2"}),
        EventKind.OWNER: (
            root,
            {"id": deliverable.owner_id, "name": deliverable.owner.get_full_name()},
            {"id": newcomer.pk, "name": "Ben Ito"},
        ),
        EventKind.DUE_DATE: (root, {"date": "2026-09-01"}, {"date": "2026-10-15"}),
    }
    assert Deliverable.objects.get(pk=deliverable.pk).version == deliverable.version + 1


def test_an_admin_status_change_follows_the_workflow_and_is_recorded(client, root, deliverable):
    client.force_login(root)

    response = _save_fresh(client, _admin_url(deliverable), status=DeliverableStatus.IN_REVIEW)

    assert response.status_code == 302
    event = DeliverableEvent.objects.get(deliverable=deliverable, kind=EventKind.STATUS)
    assert (event.actor, event.payload) == (
        root,
        {"before": {"status": "in_progress"}, "after": {"status": "in_review"}},
    )


def test_an_admin_status_change_the_workflow_forbids_is_refused(client, root, deliverable):
    client.force_login(root)

    html = _refused(
        _save_fresh(client, _admin_url(deliverable), status=DeliverableStatus.NOT_STARTED)
    )

    assert "A deliverable that is In progress cannot move to Not started." in html
    assert Deliverable.objects.get(pk=deliverable.pk).status == DeliverableStatus.IN_PROGRESS
    assert not DeliverableEvent.objects.filter(kind=EventKind.STATUS).exists()


def test_marking_done_in_the_admin_needs_the_checklist_or_a_reason(client, root, deliverable):
    deliverable_services.deliverable_transition(
        deliverable=deliverable, actor=root, to_status=DeliverableStatus.IN_REVIEW, version=None
    )
    client.force_login(root)
    url = _admin_url(deliverable)
    drawn = _drawn(client, url)

    html = _refused(_save(client, url, drawn, status=DeliverableStatus.DONE))
    assert "required checklist items are still open" in html
    assert Deliverable.objects.get(pk=deliverable.pk).status == DeliverableStatus.IN_REVIEW

    response = _save(
        client,
        url,
        drawn,
        status=DeliverableStatus.DONE,
        done_override_reason="Signed off in the launch meeting.",
    )
    assert response.status_code == 302
    assert DeliverableEvent.objects.filter(
        deliverable=deliverable, kind=EventKind.DONE_OVERRIDE, actor=root
    ).exists()


def test_a_refused_second_step_leaves_nothing_half_saved(client, root, deliverable):
    """Marking done and changing the type in one save: the move is allowed, but a
    done deliverable keeps its type, so the whole save is refused, the move too."""
    deliverable_services.deliverable_transition(
        deliverable=deliverable, actor=root, to_status=DeliverableStatus.IN_REVIEW, version=None
    )
    deliverable.refresh_from_db()
    client.force_login(root)

    html = _refused(
        _save_fresh(
            client,
            _admin_url(deliverable),
            status=DeliverableStatus.DONE,
            done_override_reason="Good enough.",
            type=deliverable_type("prd").pk,
        )
    )

    assert "Reopen it before changing its checklist or type." in html
    fresh = Deliverable.objects.get(pk=deliverable.pk)
    assert (fresh.status, fresh.type_id, fresh.version) == (
        DeliverableStatus.IN_REVIEW,
        deliverable.type_id,
        deliverable.version,
    )
    assert not DeliverableEvent.objects.filter(kind=EventKind.DONE_OVERRIDE).exists()


def test_a_blocked_reason_is_typed_with_the_move(client, root, deliverable):
    client.force_login(root)
    url = _admin_url(deliverable)
    drawn = _drawn(client, url)

    html = _refused(_save(client, url, drawn, blocked_reason="Waiting for data access."))
    assert "A reason is recorded with a status move" in html

    response = _save(
        client,
        url,
        drawn,
        status=DeliverableStatus.BLOCKED,
        blocked_reason="Waiting for data access.",
    )
    assert response.status_code == 302
    event = DeliverableEvent.objects.get(deliverable=deliverable, kind=EventKind.STATUS)
    assert event.payload["after"] == {"status": "blocked", "reason": "Waiting for data access."}


def test_adding_a_deliverable_in_the_admin_plans_it_with_its_checklist(client, root, project):
    client.force_login(root)
    url = reverse("admin:deliverables_deliverable_add")
    data = _drawn(client, url) | {
        "project": [str(project.pk)],
        "type": [str(deliverable_type("prd").pk)],
        "status": [DeliverableStatus.NOT_STARTED],
    }

    assert _save(client, url, data).status_code == 302

    created = Deliverable.objects.get(project=project)
    assert created.checklist_items.count() == deliverable_type("prd").checklist_items.count()
    assert DeliverableEvent.objects.filter(
        deliverable=created, kind=EventKind.CREATED, actor=root
    ).exists()


def test_a_deliverable_cannot_be_added_done(client, root, project):
    client.force_login(root)
    url = reverse("admin:deliverables_deliverable_add")
    data = _drawn(client, url) | {
        "project": [str(project.pk)],
        "type": [str(deliverable_type("prd").pk)],
        "status": [DeliverableStatus.DONE],
    }

    assert "A new deliverable cannot be done yet" in _refused(_save(client, url, data))
    assert not Deliverable.objects.filter(project=project).exists()


def test_an_admin_edit_of_a_project_records_a_team_change(client, root, project):
    client.force_login(root)

    response = _save_fresh(client, _admin_url(project), name="Churn prediction v2")

    assert response.status_code == 302
    change = TeamChange.objects.filter(project=project).first()
    assert (change.action, change.actor) == (TeamChangeAction.PROJECT_UPDATED, root)
    fresh = Project.objects.get(pk=project.pk)
    assert (fresh.name, fresh.version) == ("Churn prediction v2", project.version + 1)


def test_a_project_added_in_the_admin_requires_the_default_roles(client, root, manager):
    client.force_login(root)
    url = reverse("admin:roles_project_add")
    data = _drawn(client, url) | {"name": ["Fraud detection"], "managers": [str(manager.pk)]}

    assert _save(client, url, data).status_code == 302

    created = Project.objects.get(name="Fraud detection")
    assert set(created.required_roles.all()) == set(Role.objects.filter(required_by_default=True))
    assert list(created.managers.all()) == [manager]
    change = TeamChange.objects.get(project=created)
    assert (change.action, change.actor) == (TeamChangeAction.PROJECT_CREATED, root)


def test_team_changes_in_the_admin_are_recorded_with_the_project_version(
    client, root, project, owner
):
    membership_url = reverse("admin:roles_membership_add")
    newcomer = UserFactory(username="chen")
    client.force_login(root)
    data = _drawn(client, membership_url) | {
        "project": [str(project.pk)],
        "user": [str(newcomer.pk)],
    }
    assert _save(client, membership_url, data).status_code == 302
    membership = Membership.objects.get(project=project, user=newcomer)

    assignment_url = reverse("admin:roles_roleassignment_add")
    data = _drawn(client, assignment_url) | {
        "membership": [str(membership.pk)],
        "role": [str(role("data-engineer").pk)],
        "allocation_percent": ["50"],
    }
    assert _save(client, assignment_url, data).status_code == 302
    assignment = RoleAssignment.objects.get(membership=membership)
    assert _save_fresh(client, _admin_url(assignment), allocation_percent=80).status_code == 302

    changes = [
        (change.action, change.actor, change.person, change.detail)
        for change in TeamChange.objects.filter(project=project).order_by("pk")
    ][-3:]
    assert changes == [
        (TeamChangeAction.MEMBER_ADDED, root, newcomer, ""),
        (TeamChangeAction.ROLE_ASSIGNED, root, newcomer, "50%"),
        (TeamChangeAction.ASSIGNMENT_CHANGED, root, newcomer, "50% → 80%"),
    ]
    assert Project.objects.get(pk=project.pk).version == project.version + 3


def test_a_membership_of_an_archived_project_is_refused_on_the_form(client, root, project):
    team.project_archive(project=project, actor=root, version=None)
    client.force_login(root)
    url = reverse("admin:roles_membership_add")
    data = _drawn(client, url) | {"project": [str(project.pk)], "user": [str(UserFactory().pk)]}

    html = _refused(_save(client, url, data))

    assert "This project is archived." in html
    assert not Membership.objects.filter(project=project).exists()


# --- the catalogue moves its versions ------------------------------------------------------


def test_a_checklist_row_saved_on_the_type_form_moves_the_type_version(client, root):
    prd = deliverable_type("prd")
    client.force_login(root)
    url = _admin_url(prd)
    drawn = _drawn(client, url)
    total = int(drawn["checklist_items-TOTAL_FORMS"][0])
    new_row = f"checklist_items-{total - 1}"  # the blank extra row

    response = _save(
        client, url, drawn, **{f"{new_row}-text": "Privacy review done", f"{new_row}-position": 99}
    )

    assert response.status_code == 302
    fresh = DeliverableType.objects.get(pk=prd.pk)
    assert fresh.version == prd.version + 1
    assert fresh.checklist_items.filter(text="Privacy review done").exists()


def test_a_type_added_with_its_checklist_gets_each_item(client, root):
    client.force_login(root)
    url = reverse("admin:deliverables_deliverabletype_add")
    drawn = _drawn(client, url)
    fields = {"name": "Fairness report", "slug": "fairness-report", "role": role("ml-engineer").pk}
    items = {"checklist_items-0-text": "Intended use", "checklist_items-0-position": 1}

    response = _save(client, url, drawn, **fields, default_due_offset_days=60, **items)

    assert response.status_code == 302

    created = DeliverableType.objects.get(slug="fairness-report")
    assert [item.text for item in created.checklist_items.all()] == ["Intended use"]
    assert created.version == 2  # created, then its checklist item added


def test_a_type_added_on_the_role_form_goes_through_the_catalogue(client, root):
    engineer = role("ml-engineer")
    client.force_login(root)
    url = _admin_url(engineer)
    drawn = _drawn(client, url)
    total = int(drawn["deliverable_types-TOTAL_FORMS"][0])
    row = f"deliverable_types-{total}"
    drawn["deliverable_types-TOTAL_FORMS"] = [str(total + 1)]

    new_row = {
        "name": "Fairness report",
        "slug": "fairness-report",
        "default_due_offset_days": 60,
        "position": 9,
    }
    response = _save(client, url, drawn, **{f"{row}-{name}": v for name, v in new_row.items()})

    assert response.status_code == 302
    created = DeliverableType.objects.get(slug="fairness-report")
    assert (created.role, created.version) == (engineer, 1)
    assert Role.objects.get(pk=engineer.pk).version == engineer.version  # the role unchanged


def test_roles_are_not_edited_in_the_list(client, root):
    """A list cannot carry each row's version, so the role list edits nothing."""
    client.force_login(root)
    response = client.get(reverse("admin:roles_role_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].formset is None


def test_an_admin_editing_in_its_list_fails_the_system_check():
    from django.contrib import admin

    from mlteam.admin import ServiceAdmin

    class EditableRoles(ServiceAdmin):
        list_display = ["name", "position"]
        list_editable = ["position"]

    errors = EditableRoles(Role, admin.site).check()
    assert [error.id for error in errors] == ["mlteam.E001"]


# --- inlines that carry history are read in the admin, changed in the app ------------------


def test_checklist_links_and_comments_are_read_only_on_the_deliverable_form(
    client, root, deliverable, owner
):
    comment = deliverable_services.comment_add(
        deliverable=deliverable, actor=owner, body="First draft."
    )
    deliverable_services.link_add(
        deliverable=deliverable, actor=owner, kind="document", url="https://example.com/doc"
    )
    client.force_login(root)
    url = _admin_url(deliverable)
    response = client.get(url)
    html = response.content.decode()
    assert reverse("deliverables:detail", args=[deliverable.pk]) in html
    drawn = form_data(html)
    inline_fields = {
        name.split("-", 2)[2]
        for name in drawn
        if name.startswith(("checklist_items-0-", "comments-0-", "links-0-"))
    }
    assert inline_fields == {"id", "deliverable"}, "only the rows' hidden keys, nothing to edit"

    # A forged inline change is ignored: the rows are not the admin's to change.
    forged = {"comments-0-body": ["Rewritten history"], "comments-0-id": [str(comment.pk)]}
    assert _save(client, url, drawn | forged).status_code == 302
    assert deliverable.comments.get().body == "First draft."


# --- two admins at the same moment, on PostgreSQL ------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_admins_saving_the_same_form_at_once_one_wins():
    """Both forms drawn from the same version and sent together: the row lock taken
    while the form is checked makes the second wait and find the version moved, so
    it is refused on its form (no 500), and only the winner's change is recorded."""
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    from django.test import Client

    manager = UserFactory(username="hiro")
    project = team.project_create(name="Race", actor=manager, managers=[manager])
    deliverable = deliverable_services.deliverable_create(
        project=project, type=deliverable_type("analysis-report"), actor=manager
    )
    url = _admin_url(deliverable)
    clients = {}
    for name in ("first", "second"):
        clients[name] = Client()
        clients[name].force_login(UserFactory(username=name, is_staff=True, is_superuser=True))
    drawn = {name: _drawn(client, url) for name, client in clients.items()}
    barrier = threading.Barrier(2)
    outcomes: dict[str, int] = {}

    def save(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            response = _save(clients[name], url, drawn[name], title=f"Title from {name}")
            outcomes[name] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == [200, 302], outcomes
    winner = next(name for name, status in outcomes.items() if status == 302)
    fresh = Deliverable.objects.get(pk=deliverable.pk)
    assert (fresh.title, fresh.version) == (f"Title from {winner}", deliverable.version + 1)
    [event] = DeliverableEvent.objects.filter(deliverable=deliverable, kind=EventKind.TITLE)
    assert event.actor.username == winner
