"""A deactivated person takes on no new work: they are not offered as an owner and
the services refuse them, while what they already own keeps them as its owner."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deliverables.selectors import owner_choices
from deliverables.services import deliverable_create, deliverable_update
from mlteam.services import people_deactivate
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    manager = manager_user(username="hiro")
    project = project_create(name="Churn", actor=manager, managers=[manager])
    ben = UserFactory(username="ben", first_name="Ben", last_name="Okafor")
    aiko = UserFactory(username="aiko")
    for person in (ben, aiko):
        membership_add(project=project, user=person, actor=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), owner=ben, actor=manager
    )
    people_deactivate(people=[ben], actor=manager)
    ben.refresh_from_db()
    return manager, project, ben, aiko, deliverable


def test_a_deactivated_person_is_offered_only_for_what_they_own(team):
    _manager, project, ben, aiko, _deliverable = team
    assert set(owner_choices(project=project)) == {aiko}
    assert set(owner_choices(project=project, current=ben)) == {aiko, ben}


def test_the_services_refuse_new_work_for_a_deactivated_person(team):
    manager, project, ben, aiko, deliverable = team
    with pytest.raises(ValidationError, match="deactivated"):
        deliverable_create(
            project=project, type=deliverable_type("design-document"), owner=ben, actor=manager
        )
    other = deliverable_create(
        project=project, type=deliverable_type("design-document"), owner=aiko, actor=manager
    )
    with pytest.raises(ValidationError, match="deactivated"):
        deliverable_update(
            deliverable=other,
            actor=manager,
            version=other.version,
            title="",
            owner=ben,
            due_date=None,
            type=other.type,
        )
    # What Ben owns can still be saved with him as its owner.
    deliverable_update(
        deliverable=deliverable,
        actor=manager,
        version=deliverable.version,
        title="",
        owner=ben,
        due_date=date(2027, 1, 31),
        type=deliverable.type,
    )


def test_the_edit_page_offers_no_deactivated_person(client, team):
    manager, _project, _ben, _aiko, deliverable = team
    client.force_login(manager)
    other = deliverable_create(
        project=deliverable.project, type=deliverable_type("design-document"), actor=manager
    )
    page = client.get(reverse("deliverables:edit", args=[other.pk])).content.decode()
    assert "Ben Okafor" not in page
    page = client.get(reverse("deliverables:edit", args=[deliverable.pk])).content.decode()
    assert "Ben Okafor" in page  # the current owner stays selectable
