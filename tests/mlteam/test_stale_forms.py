"""Issue 13, item 4: every edit form carries a version, and a refused form is
offered again over the current values.

For each versioned form the round-trip test drives (tests/mlteam/test_edit_round_trip.py),
the person draws the page, someone else then saves a change (`OTHERS`), and the
person submits their own change from the page they drew. The save is refused and
nothing of it is saved. The form shown again holds the person's change, the other
person's change (pointed out next to its field) and the current version; sent as
it is, it saves, and both changes hold.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils.html import escape

from deliverables.models import ChecklistItem, Deliverable
from deliverables.practices import services as practices_services
from deliverables.reviews import services as reviews_services
from deliverables.reviews.models import Review, ReviewCycle
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_update
from mlteam.forms import EditFormMixin, VersionField
from roles.models import Membership, Project, RoleAssignment
from roles.services import assignment_update, project_update
from tests.html_forms import form_data
from tests.mlteam.test_edit_round_trip import CASES, Case, _world, snapshot
from tests.practices.conftest import Practices, practices  # noqa: F401 (fixture)

FORMS_MODULES = ["roles.forms", "deliverables.forms", "deliverables.practices.forms"]


@dataclass
class Meanwhile:
    """What someone else's save shows on the form offered again."""

    # By the names the page submits them with.
    shows: dict[str, list[str]] = field(default_factory=dict)  # untouched fields, now
    collides: set[str] = field(default_factory=set)  # the person's own field, changed too


def _other_project_edit(p: Practices, w, case: Case) -> Meanwhile:
    project = Project.objects.get(pk=p.project.pk)
    project_update(
        project=project,
        actor=p.people["other_manager"],
        version=project.version,
        target_date=date(2026, 12, 15),
    )
    return Meanwhile(shows={"target_date": ["2026-12-15"]})


def _other_allocation(p: Practices, w, case: Case) -> Meanwhile:
    """The same allocation, changed by another manager: the person's 45 collides."""
    assignment = RoleAssignment.objects.get(
        membership__user=p.people["other_member"], role__slug="data-engineer"
    )
    assignment_update(
        assignment=assignment,
        allocation_percent=60,
        actor=p.people["other_manager"],
        version=Project.objects.get(pk=p.project.pk).version,
    )
    return Meanwhile(collides={"allocation_percent"})


def _other_team_assign(p: Practices, w, case: Case) -> Meanwhile:
    """Another manager halves the person's allocation: the page offered the time left
    (none); offered again, it offers the half now left."""
    membership = Membership.objects.get(project=p.project, user=p.people["person"])
    assignment_update(
        assignment=membership.assignments.get(),
        allocation_percent=50,
        actor=p.people["other_manager"],
        version=Project.objects.get(pk=p.project.pk).version,
    )
    return Meanwhile(shows={f"m{membership.pk}-allocation_percent": ["50"]})


def _other_deliverable_edit(p: Practices, w, case: Case) -> Meanwhile:
    """The issue's case: another person moves the due date while this one renames."""
    report = Deliverable.objects.get(pk=p.report.pk)
    deliverable_update(
        deliverable=report,
        actor=p.people["other_manager"],
        version=report.version,
        title=report.title,
        type=report.type,
        owner=report.owner,
        due_date=date(2026, 4, 30),
    )
    return Meanwhile(shows={"due_date": ["2026-04-30"]})


def _other_checklist(p: Practices, w, case: Case) -> Meanwhile:
    report = Deliverable.objects.get(pk=p.report.pk)
    other = (
        report.checklist_items.filter(answer_kind="text")
        .exclude(pk=int(case.field.removeprefix("item_")))
        .order_by("position", "pk")
        .first()
    )
    checklist_update(
        deliverable=report,
        actor=p.people["manager"],
        version=report.version,
        answers={other.pk: ChecklistAnswer(answer="Written meanwhile")},
    )
    return Meanwhile(shows={f"item_{other.pk}": ["Written meanwhile"]})


def _other_review_date(p: Practices, w, case: Case) -> Meanwhile:
    """Another manager sets a different date: the person's date collides."""
    practices_services.handbook_review_date_set(
        project=p.project,
        actor=p.people["other_manager"],
        review_on=date(2026, 7, 15),
        version=Project.objects.get(pk=p.project.pk).version,
    )
    return Meanwhile(collides={"review_on"})


def _other_cycle_edit(p: Practices, w, case: Case) -> Meanwhile:
    cycle = ReviewCycle.objects.get(pk=p.cycle.pk)
    end = cycle.end_date + timedelta(days=7)
    reviews_services.cycle_update(
        cycle=cycle,
        version=cycle.version,
        name=cycle.name,
        start_date=cycle.start_date,
        end_date=end,
        expectations_due_days=cycle.expectations_due_days,
    )
    return Meanwhile(shows={"end_date": [end.isoformat()]})


def _other_expectations_edit(p: Practices, w, case: Case) -> Meanwhile:
    """The same manager, in another tab, unlinks the report."""
    review = Review.objects.get(pk=p.review.pk)
    reviews_services.expectations_update(
        review=review,
        actor=p.people["manager"],
        version=review.version,
        text=review.expectations,
        deliverables=[],
    )
    return Meanwhile(shows={"deliverables": []})


def _other_evaluation_edit(p: Practices, w, case: Case) -> Meanwhile:
    review = Review.objects.get(pk=p.review.pk)
    reviews_services.evaluation_save(
        review=review,
        actor=p.people["manager"],
        version=review.evaluation_version,
        ratings={
            "quality_code": 2,
            "quality_documentation": review.quality_documentation,
            "quality_collaboration": review.quality_collaboration,
            "expectations_met": review.expectations_met,
        },
        comment=review.evaluation_comment,
        project_outcome=review.project_outcome,
        share=True,
    )
    return Meanwhile(shows={"quality_code": ["2"]})


def _other_self_assessment(p: Practices, w, case: Case) -> Meanwhile:
    """The manager rewrites the expectations: the review moves on, the self-assessment
    form's only field is the person's own."""
    review = Review.objects.get(pk=p.review.pk)
    reviews_services.expectations_update(
        review=review,
        actor=p.people["manager"],
        version=review.version,
        text="Own the report and present it twice.",
        deliverables=list(review.deliverables.all()),
    )
    return Meanwhile()


OTHERS = {
    "project_edit": _other_project_edit,
    "assignment_edit": _other_allocation,
    "assignment_edit_inline": _other_allocation,
    "team_assign": _other_team_assign,
    "deliverable_edit": _other_deliverable_edit,
    "checklist": _other_checklist,
    "handbook_review_date": _other_review_date,
    "cycle_edit": _other_cycle_edit,
    "expectations_edit": _other_expectations_edit,
    "evaluation_edit": _other_evaluation_edit,
    "self_assessment": _other_self_assessment,
}
# The round-trip cases without a version: creation forms.
UNVERSIONED = {"link_add"}
# Creation with the project's version, refused with a message and a fresh proposal.
PROPOSAL = {"plan"}


def test_every_versioned_form_of_the_round_trip_is_tested_here():
    assert set(CASES) == set(OTHERS) | UNVERSIONED | PROPOSAL


def _bound_edit_forms(response) -> list:
    """The edit forms the page was drawn with that were bound to sent data."""
    contexts = response.context if isinstance(response.context, list) else [response.context]
    values = [value for context in contexts for value in context.flatten().values()]
    found = list(values)
    for project in values:
        if isinstance(project, Project) and "memberships" in getattr(
            project, "_prefetched_objects_cache", {}
        ):
            for membership in project.memberships.all():  # the team panel's own forms
                found.append(getattr(membership, "assign_form", None))
                found += [getattr(a, "allocation_form", None) for a in membership.assignments.all()]
    bound = [f for f in found if isinstance(f, EditFormMixin) and f.is_bound]
    return list({id(f): f for f in bound}.values())


def _offered(page: str, case: Case) -> dict:
    """The form offered again: on the page it was sent from, or (the inline
    allocation, sent without htmx) on the form's own page."""
    try:
        return form_data(page, action=case.action)
    except AssertionError:
        return form_data(page)


@pytest.mark.parametrize("name", OTHERS)
def test_a_stale_save_is_refused_and_offered_again_over_the_current_values(
    client,
    practices,  # noqa: F811
    name,
):
    world = _world(practices)
    case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    drawn = form_data(client.get(case.page).content.decode(), action=case.action)
    meanwhile = OTHERS[name](practices, world, case)
    saved = snapshot()
    sent = {**drawn, case.field: [case.value] if case.value else []}

    response = client.post(case.action or case.page, sent)

    assert response.status_code in {400, 409, 422}, response.status_code
    assert snapshot() == saved  # nothing of the refused save
    page = response.content.decode()
    # The message says what the form now holds: the person's entry, kept.
    assert "kept below" in page
    (form,) = _bound_edit_forms(response)
    noted = {form.add_prefix(name): note for name, note in form.meanwhile.items()}
    assert set(noted) == set(meanwhile.shows) | meanwhile.collides
    for field_name, note in noted.items():
        assert note.collides == (field_name in meanwhile.collides)
        assert escape(str(note)) in page  # next to its field
    offered = _offered(page, case)
    assert offered.get(case.field, []) == sent[case.field]  # the person's change
    for field_name, now in meanwhile.shows.items():
        assert offered.get(field_name, []) == now  # the other person's change
    version = offered.get(form.add_prefix("version"))
    assert version and int(version[0]) == form["version"].initial

    # Sent again as offered: saved, and both changes hold.
    after = copy.deepcopy(snapshot(stamps=False))
    response = client.post(case.action or case.page, offered)
    assert response.status_code == 302, response.content.decode()[:2000]
    case.expect(after, offered)
    assert snapshot(stamps=False) == after


def test_the_refused_deliverable_form_offers_the_current_due_date_not_the_old_one(
    client,
    practices,  # noqa: F811
):
    """Issue 13, finding 5: one click on Save put the other person's due date back."""
    world = _world(practices)
    report = world["report"]
    url = reverse("deliverables:edit", args=[report.pk])
    client.force_login(practices.people["manager"])
    drawn = form_data(client.get(url).content.decode())
    assert drawn["due_date"] == ["2026-03-31"]
    _other_deliverable_edit(practices, world, CASES["deliverable_edit"](practices, world))

    response = client.post(url, {**drawn, "title": "Churn drivers, revised"})

    assert response.status_code == 409
    page = response.content.decode()
    assert "Changed by someone else meanwhile: Due date." in page
    offered = form_data(page)
    assert offered["due_date"] == ["2026-04-30"]
    assert offered["title"] == ["Churn drivers, revised"]
    assert client.post(url, offered).status_code == 302
    report.refresh_from_db()
    assert (report.title, report.due_date) == ("Churn drivers, revised", date(2026, 4, 30))


def test_a_change_both_made_is_marked_and_the_persons_own_value_offered(client, practices):  # noqa: F811
    world = _world(practices)
    report = world["report"]
    url = reverse("deliverables:edit", args=[report.pk])
    client.force_login(practices.people["manager"])
    drawn = form_data(client.get(url).content.decode())
    _other_deliverable_edit(practices, world, CASES["deliverable_edit"](practices, world))

    response = client.post(url, {**drawn, "due_date": ["2026-05-15"]})

    assert response.status_code == 409
    note = response.context["form"]["due_date"].meanwhile
    assert note.collides and "Apr 30, 2026" in str(note)
    assert escape(str(note)) in response.content.decode()
    assert form_data(response.content.decode())["due_date"] == ["2026-05-15"]


def test_the_matrix_cells_allocation_is_offered_again_in_its_editor(client, practices):  # noqa: F811
    """With htmx the refusal comes back into the cell's dialog (not over the
    matrix): the person's allocation in its box, the other person's value pointed
    out beside it."""
    world = _world(practices)
    case = CASES["assignment_edit_inline"](practices, world)
    client.force_login(practices.people["manager"])
    drawn = form_data(
        client.get(case.page, HTTP_HX_REQUEST="true").content.decode(), action=case.action
    )
    _other_allocation(practices, world, case)
    saved = snapshot()

    response = client.post(case.action, {**drawn, case.field: ["45"]}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200  # htmx swaps it into the dialog
    assert response["HX-Retarget"] == "#cell-editor-body"
    assert snapshot() == saved
    page = response.content.decode()
    assert "Someone else changed this project" in page
    offered = form_data(page, action=case.action)
    assert offered["allocation_percent"] == ["45"]
    assert escape("Someone else changed this meanwhile to: 60") in page
    response = client.post(case.action, offered, HTTP_HX_REQUEST="true")
    assert (
        RoleAssignment.objects.get(
            membership__user=practices.people["other_member"], role__slug="data-engineer"
        ).allocation_percent
        == 45
    )


def test_the_review_cycle_form_refuses_a_stale_save(client, practices):  # noqa: F811
    """Issue 13, finding 4: an admin's stale save reverted a manager's rename."""
    url = reverse("reviews:cycle_edit", args=[practices.cycle.pk])
    client.force_login(practices.people["manager"])
    drawn = form_data(client.get(url).content.decode())
    client.post(url, {**drawn, "name": "H2, renamed"})
    response = client.post(url, {**drawn, "expectations_due_days": ["21"]})
    assert response.status_code == 400
    assert "Someone else changed this review cycle" in response.content.decode()
    cycle = ReviewCycle.objects.get(pk=practices.cycle.pk)
    assert (cycle.name, cycle.expectations_due_days) == ("H2, renamed", 14)
    offered = form_data(response.content.decode())
    assert offered["name"] == ["H2, renamed"] and offered["expectations_due_days"] == ["21"]


def test_the_handbook_review_date_refuses_a_stale_save(client, practices):  # noqa: F811
    url = reverse("practices:handbook_review_date", args=[practices.project.pk])
    page = reverse("practices:handbook", args=[practices.project.pk])
    client.force_login(practices.people["manager"])
    drawn = form_data(client.get(page).content.decode(), action=url)
    assert client.post(url, {**drawn, "review_on": ["2026-06-01"]}).status_code == 302
    response = client.post(url, {**drawn, "review_on": ["2026-09-01"]})
    assert response.status_code == 400
    assert Project.objects.get(pk=practices.project.pk).handbook_review_on == date(2026, 6, 1)
    offered = form_data(response.content.decode(), action=url)
    assert offered["review_on"] == ["2026-09-01"]
    assert "Someone else changed this meanwhile to: Jun 1, 2026" in response.content.decode()


def test_the_refusal_names_the_review_cycle_as_the_japanese_pages_do():
    """One word for a review cycle in Japanese (評価サイクル): the refusal said
    レビューサイクル, which no page uses."""
    from django.utils import translation

    from deliverables.reviews.services import CYCLE_STALE_MESSAGE

    with translation.override("ja"):
        term = str(ReviewCycle._meta.verbose_name)
        assert term == "評価サイクル"
        assert term in str(CYCLE_STALE_MESSAGE)
        assert "レビューサイクル" not in str(CYCLE_STALE_MESSAGE)


def test_removing_a_handbook_question_from_a_stale_page_is_refused(client, practices):  # noqa: F811
    """An answer written after the page asking was drawn is not removed unseen."""
    url = reverse(
        "practices:handbook_question_remove", args=[practices.project.pk, practices.question.pk]
    )
    client.force_login(practices.people["manager"])
    drawn = form_data(client.get(url).content.decode())
    handbook = Deliverable.objects.get(pk=practices.handbook.pk)
    checklist_update(
        deliverable=handbook,
        actor=practices.people["other_member"],
        version=handbook.version,
        answers={practices.question.pk: ChecklistAnswer(answer="The CRM team.")},
    )
    response = client.post(url, drawn)
    assert response.status_code == 400
    assert "The handbook changed while this page was open" in response.content.decode()
    assert ChecklistItem.objects.filter(pk=practices.question.pk).exists()
    assert client.post(url, form_data(response.content.decode())).status_code == 302
    assert not ChecklistItem.objects.filter(pk=practices.question.pk).exists()


def _form_classes():
    for module_name in FORMS_MODULES:
        module = importlib.import_module(module_name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, forms.BaseForm)
                and obj.__module__ == module_name
            ):
                yield obj


def test_every_form_with_a_version_carries_what_it_was_drawn_with():
    """A version without the drawn values would offer a refused form over the old
    values again (finding 5): every versioned form is an edit form."""
    missing = [
        form_class.__name__
        for form_class in _form_classes()
        if any(isinstance(f, VersionField) for f in form_class.base_fields.values())
        and not issubclass(form_class, EditFormMixin)
    ]
    assert missing == []


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_every_edit_page_draws_every_fields_drawn_value(client, practices, name):  # noqa: F811
    world = _world(practices)
    case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    response = client.get(case.page)
    data = form_data(response.content.decode(), action=case.action)
    # `form` names which of a page's forms was sent (the deliverable page's), not a field.
    fields = {key for key in data if not key.startswith("initial-")} - {"version", "form"}
    fields = {key for key in fields if not key.endswith("-version")}
    missing = {key for key in fields if f"initial-{key}" not in data}
    assert missing == set()
