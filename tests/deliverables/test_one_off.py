"""One-off deliverables: a manager adds one of any type (or "Other") at any time,
and cancelling one takes it out of every count while its history stays."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from deliverables import services
from deliverables.models import (
    OTHER_TYPE_SLUG,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    DeliverableType,
    EventKind,
)
from deliverables.selectors import plan_proposal
from tests.factories import deliverable_type

pytestmark = pytest.mark.django_db


def _other() -> DeliverableType:
    return DeliverableType.objects.get(slug=OTHER_TYPE_SLUG)


def test_other_type_is_seeded_and_never_proposed_by_the_plan(work):
    other = _other()
    assert other.proposed is False
    proposed = {row["type"] for row in plan_proposal(project=work.world.project)}
    assert proposed and other.pk not in proposed


def test_manager_adds_an_other_deliverable_with_title_and_description(work):
    manager = work.world.people["manager"]
    added = services.deliverable_add(
        project=work.world.project,
        actor=manager,
        type=_other(),
        title="  Vendor contract review ",
        description="Check the data clauses.",
        owner=work.world.people["member"],
    )
    added.refresh_from_db()
    assert added.title == "Vendor contract review"
    assert added.description == "Check the data clauses."
    assert added.status == DeliverableStatus.NOT_STARTED
    assert added.label.endswith("Vendor contract review")
    assert DeliverableEvent.objects.filter(deliverable=added, kind=EventKind.CREATED).exists()


def test_other_needs_its_own_title(work):
    with pytest.raises(services.ValidationError) as caught:
        services.deliverable_add(
            project=work.world.project, actor=work.world.people["manager"], type=_other()
        )
    assert "title" in caught.value.error_dict


def test_manager_adds_a_type_the_project_already_has(work):
    """The plan proposes a type once; adding by hand has no such limit."""
    again = services.deliverable_add(
        project=work.world.project,
        actor=work.world.people["manager"],
        type=work.deliverable.type,
        title="Second report",
    )
    assert Deliverable.objects.filter(project=work.world.project, type=again.type).count() == 2


@pytest.mark.parametrize("persona", ["member", "colleague", "other_manager", "outsider"])
def test_only_the_projects_managers_may_add(work, persona):
    before = Deliverable.objects.count()
    with pytest.raises(services.ValidationError):
        services.deliverable_add(
            project=work.world.project,
            actor=work.world.people[persona],
            type=deliverable_type("deployed-model"),
        )
    assert Deliverable.objects.count() == before


def test_add_page_shows_the_missing_title_next_to_the_field(client, work):
    client.force_login(work.world.people["manager"])
    before = Deliverable.objects.count()
    response = client.post(
        reverse("deliverables:add", args=[work.world.project.pk]), {"type": _other().pk}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["title"]
    assert Deliverable.objects.count() == before


def test_add_page_refuses_an_owner_off_the_team(client, work):
    client.force_login(work.world.people["manager"])
    response = client.post(
        reverse("deliverables:add", args=[work.world.project.pk]),
        {"type": _other().pk, "title": "x", "owner": work.world.people["outsider"].pk},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["owner"]


def test_add_page_creates_and_opens_the_deliverable(client, work):
    client.force_login(work.world.people["manager"])
    response = client.post(
        reverse("deliverables:add", args=[work.world.project.pk]),
        {
            "type": _other().pk,
            "title": "Vendor contract review",
            "description": "Check **data** clauses.",
            "owner": work.world.people["member"].pk,
            "due_date": "2031-05-01",
        },
        follow=True,
    )
    added = Deliverable.objects.get(title="Vendor contract review")
    assert response.redirect_chain[-1][0] == reverse("deliverables:detail", args=[added.pk])
    assert "<strong>data</strong>" in response.content.decode()


def test_the_description_is_edited_afterwards_with_its_history(client, work):
    manager = work.world.people["manager"]
    added = services.deliverable_add(
        project=work.world.project, actor=manager, type=_other(), title="Vendor review"
    )
    client.force_login(manager)
    url = reverse("deliverables:edit", args=[added.pk])
    form = client.get(url).context["form"]
    assert form["description"].value() == ""
    response = client.post(
        url,
        {
            "version": added.version,
            "title": added.title,
            "description": "Check the **data** clauses.",
            "type": added.type_id,
        },
        follow=True,
    )
    added.refresh_from_db()
    assert added.description == "Check the **data** clauses."
    page = response.content.decode()
    assert "<strong>data</strong>" in page
    event = added.events.get(kind=EventKind.DESCRIPTION)
    assert event.payload["after"] == {"text": "Check the **data** clauses."}
    assert not event.payload.get("before")
    assert str(event.kind_label) == "changed the description"
    # The same form again, with the version it was drawn with: refused as stale,
    # the description typed kept and nothing written.
    stale = client.post(
        url,
        {
            "version": added.version - 1,
            "title": added.title,
            "description": "Other words",
            "type": added.type_id,
        },
        follow=True,
    )
    assert stale.status_code == 409
    assert stale.context["form"]["description"].value() == "Other words"
    added.refresh_from_db()
    assert added.description == "Check the **data** clauses."


def test_the_admin_saves_a_description_through_the_service(client, work):
    from tests.factories import admin_user
    from tests.html_forms import form_data

    deliverable = work.deliverable
    client.force_login(admin_user(username="ada"))
    url = reverse("admin:deliverables_deliverable_change", args=[deliverable.pk])
    data = form_data(client.get(url).content.decode())
    data["description"] = ["Written in the admin."]
    data["_save"] = ["Save"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    deliverable.refresh_from_db()
    assert deliverable.description == "Written in the admin."
    assert deliverable.events.filter(kind=EventKind.DESCRIPTION).exists()


def test_project_page_and_plan_link_to_adding(client, work):
    client.force_login(work.world.people["manager"])
    url = reverse("deliverables:add", args=[work.world.project.pk])
    assert (
        url
        in client.get(
            reverse("roles:project_detail", args=[work.world.project.pk])
        ).content.decode()
    )
    assert (
        url
        in client.get(reverse("deliverables:plan", args=[work.world.project.pk])).content.decode()
    )


def test_members_do_not_see_the_add_button(client, work):
    client.force_login(work.world.people["member"])
    url = reverse("deliverables:add", args=[work.world.project.pk])
    assert (
        url
        not in client.get(
            reverse("roles:project_detail", args=[work.world.project.pk])
        ).content.decode()
    )


def test_cancelled_one_off_leaves_open_and_overdue_counts(work):
    manager = work.world.people["manager"]
    today = timezone.localdate()
    added = services.deliverable_add(
        project=work.world.project,
        actor=manager,
        type=_other(),
        title="One-off",
        due_date=work.world.project.start_date,
    )
    project_rows = Deliverable.objects.filter(project=work.world.project)
    open_before = project_rows.open().count()
    overdue_before = project_rows.overdue(today).count()
    services.deliverable_transition(
        deliverable=added,
        actor=manager,
        to_status=DeliverableStatus.CANCELLED,
        version=added.version,
        reason="Not needed after all.",
    )
    assert project_rows.open().count() == open_before - 1
    assert project_rows.overdue(today).count() == overdue_before - (
        1 if added.due_date and added.due_date < today else 0
    )
    assert Deliverable.objects.filter(pk=added.pk).exists()  # kept, with its history
    assert DeliverableEvent.objects.filter(deliverable=added, kind=EventKind.STATUS).exists()
