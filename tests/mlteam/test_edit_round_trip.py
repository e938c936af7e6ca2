"""Issue 12, item 1: every edit form keeps what it does not change.

For each form that edits something that already exists (listed from the URL
confs: roles, deliverables, practices; the reminder settings form has its own
tests), the rightful user loads the page, the test takes exactly what the page
draws (tests/html_forms.py: every input, ticked box, selected option and
textarea, as a browser submits them), changes one field, submits, and compares
every saved row with what it was: only the changed field may differ. Also
submitted unchanged, and in both languages, since a form may draw a value in a
shape only one locale reads back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.db.models import ManyToManyField
from django.urls import reverse
from django.utils import translation

from deliverables.links import parse_link
from deliverables.models import ChecklistItem, Deliverable, DeliverableLink
from deliverables.reviews.models import Review, ReviewCycle
from deliverables.selectors import plan_proposal
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_update, link_add
from roles.models import Membership, Project, Role, RoleAssignment
from roles.services import project_update, role_assign
from tests.factories import role
from tests.html_forms import form_data
from tests.practices.conftest import Practices, practices  # noqa: F401 (fixture)

# Rows an edit form could touch, and the many-to-many relations it could reset.
MODELS = [Project, Membership, RoleAssignment, Deliverable, ChecklistItem, DeliverableLink]
MODELS += [ReviewCycle, Review]
# Bookkeeping every save moves on purpose.
SKIP = {"version", "evaluation_version", "updated_at", "created_at"}
# Who changed an answer or text, and when: moved by a change, never by a save
# that changes nothing.
STAMPS = {"answered_by", "answered_at", "expectations_set_at", "evaluation_written_at"}
STAMPS |= {"self_assessment_at"}


def snapshot(*, stamps: bool = True) -> dict:
    """{model: {pk: {field: value}}}, many-to-many fields as sorted id lists."""
    world = {}
    skip = SKIP if stamps else SKIP | STAMPS
    for model in MODELS:
        fields = [f for f in model._meta.get_fields() if f.concrete and f.name not in skip]
        rows = {}
        for obj in model.objects.order_by("pk"):
            row = {}
            for field in fields:
                if isinstance(field, ManyToManyField):
                    row[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
                else:
                    row[field.attname] = getattr(obj, field.attname)
            rows[obj.pk] = row
        world[model.__name__] = rows
    return world


@dataclass
class Case:
    user: str
    page: str  # the page that draws the form
    action: str | None  # the form's action (None: it posts to the page)
    field: str  # the one field the person changes ...
    value: str  # ... to this
    expect: Callable[[dict, dict], None]  # (snapshot before, submitted data): the change


def _world(p: Practices) -> dict:
    """The fixture's project filled in, so that every field has a value to lose."""
    manager, person, other = p.people["manager"], p.people["person"], p.people["other_member"]
    project = Project.objects.get(pk=p.project.pk)
    project_update(
        project=project,
        actor=manager,
        version=project.version,
        business_problem="Keep customers.\nTwo lines.",
        status="active",
        start_date=date(2026, 1, 5),
        target_date=date(2026, 11, 30),
        escalation_days=7,
        required_roles=list(Role.objects.filter(slug__in=["data-scientist", "ml-engineer"])),
    )
    project.refresh_from_db()
    role_assign(
        membership=Membership.objects.get(project=project, user=other),
        role=role("data-engineer"),
        allocation_percent=30,
    )
    report = Deliverable.objects.get(pk=p.report.pk)
    deliverable_update(
        deliverable=report,
        actor=manager,
        version=report.version,
        title=report.title,
        type=report.type,
        owner=person,
        due_date=date(2026, 3, 31),
    )
    report.refresh_from_db()
    items = list(report.checklist_items.all())
    answers = {}
    for n, item in enumerate(items):
        answers[item.pk] = ChecklistAnswer(
            checked=item.answer_kind == "tick" and n % 2 == 0,
            answer=f"Answer {n}\nsecond line" if item.answer_kind == "text" else "",
            link=f"https://example.com/{n}" if item.answer_kind == "link" else "",
        )
    checklist_update(deliverable=report, actor=person, version=report.version, answers=answers)
    link_add(
        deliverable=report,
        actor=person,
        kind="repository",
        url="https://example.com/nb",
        label="Notebook",
    )
    Project.objects.filter(pk=project.pk).update(handbook_review_on=date(2026, 6, 1))
    # Written elsewhere (the admin, a script, the seed) with bare line feeds.
    Review.objects.filter(pk=p.review.pk).update(
        expectations="Own the report.\nPresent it.",
        evaluation_comment="Careful.\nWell documented.",
        project_outcome="Missed.\nBy a little.",
        self_assessment="I learnt.\nA lot.",
    )
    return {"project": project, "report": report}


def _case_project_edit(p, w):
    project = w["project"]

    def expect(world, data):
        world["Project"][project.pk]["name"] = "Churn, renamed"

    url = reverse("roles:project_edit", args=[project.pk])
    return Case("manager", url, None, "name", "Churn, renamed", expect)


def _case_assignment_edit(p, w):
    assignment = RoleAssignment.objects.get(
        membership__user=p.people["other_member"], role__slug="data-engineer"
    )

    def expect(world, data):
        world["RoleAssignment"][assignment.pk]["allocation_percent"] = 45

    url = reverse("roles:assignment_edit", args=[p.project.pk, assignment.pk])
    return Case("manager", url, None, "allocation_percent", "45", expect)


def _case_assignment_edit_inline(p, w):
    """The same form, drawn by the team matrix's cell (its editor)."""
    case = _case_assignment_edit(p, w)
    assignment = RoleAssignment.objects.get(
        membership__user=p.people["other_member"], role__slug="data-engineer"
    )
    case.action, case.page = (
        case.page,
        reverse(
            "roles:team_cell",
            args=[p.project.pk, assignment.membership_id, assignment.role_id],
        ),
    )
    return case


def _case_team_assign(p, w):
    membership = Membership.objects.get(project=p.project, user=p.people["person"])
    new_role = role("mlops-engineer") if Role.objects.filter(slug="mlops-engineer") else None
    new_role = new_role or Role.objects.exclude(assignments__membership=membership).first()
    prefix = f"m{membership.pk}"

    def expect(world, data):
        # The new assignment carries the allocation the page offered.
        created = RoleAssignment.objects.get(membership=membership, role=new_role)
        assert created.allocation_percent == int(data[f"{prefix}-allocation_percent"][0])
        world["RoleAssignment"][created.pk] = snapshot(stamps=False)["RoleAssignment"][created.pk]

    return Case(
        "manager",
        reverse("roles:team_cell", args=[p.project.pk, membership.pk, new_role.pk]),
        reverse("roles:team_assign", args=[p.project.pk, membership.pk]),
        f"{prefix}-role",
        str(new_role.pk),
        expect,
    )


def _case_deliverable_edit(p, w):
    report = w["report"]

    def expect(world, data):
        world["Deliverable"][report.pk]["title"] = "Churn drivers, revised"

    url = reverse("deliverables:edit", args=[report.pk])
    return Case("manager", url, None, "title", "Churn drivers, revised", expect)


def _case_checklist(p, w):
    report = w["report"]
    item = report.checklist_items.order_by("position", "pk").first()
    new = {"tick": "", "text": "A new answer", "link": "https://example.com/new"}[item.answer_kind]

    def expect(world, data):
        row = world["ChecklistItem"][item.pk]
        if item.answer_kind == "tick":
            row["checked"] = not item.checked
        else:
            row[{"text": "answer", "link": "link"}[item.answer_kind]] = new

    field = f"item_{item.pk}"
    case = Case(
        "person",
        reverse("deliverables:detail", args=[report.pk]),
        # The page's forms post to its own address (a refused one is shown there).
        reverse("deliverables:detail", args=[report.pk]) + "#checklist",
        field,
        new,
        expect,
    )
    if item.answer_kind == "tick":
        case.value = "" if item.checked else "on"
    return case


def _case_link_add(p, w):
    report = w["report"]

    def expect(world, data):
        link = DeliverableLink.objects.latest("pk")
        # The kind as drawn, or detected from the address when left to detection.
        parsed = parse_link(data["kind"][0], "https://example.com/model-card")
        world["DeliverableLink"][link.pk] = {
            "id": link.pk,
            "deliverable_id": report.pk,
            "kind": parsed.kind,
            "target": parsed.target,
            "url": "https://example.com/model-card",
            "label": "",
            "added_by_id": p.people["person"].pk,
        }

    return Case(
        "person",
        reverse("deliverables:detail", args=[report.pk]),
        reverse("deliverables:detail", args=[report.pk]) + "#links",
        "url",
        "https://example.com/model-card",
        expect,
    )


def _case_plan(p, w):
    project = w["project"]
    proposal = plan_proposal(project=project)
    assert proposal, "the fixture's team must leave something to plan"

    def expect(world, data):
        created = Deliverable.objects.filter(project=project).exclude(
            pk__in=world["Deliverable"].keys()
        )
        renamed = int(data["plan-0-type"][0])  # the page's first row
        wanted = {
            row["type"]: (
                "Planned, renamed" if row["type"] == renamed else row["title"],
                row["owner"],
                row["due_date"],
            )
            for row in proposal
        }
        got = {d.type_id: (d.title, d.owner_id, d.due_date) for d in created}
        assert got == wanted
        for deliverable in created:  # compared above; the rest of the world below
            world["Deliverable"][deliverable.pk] = snapshot(stamps=False)["Deliverable"][
                deliverable.pk
            ]
            for item in deliverable.checklist_items.all():
                world["ChecklistItem"][item.pk] = snapshot(stamps=False)["ChecklistItem"][item.pk]

    url = reverse("deliverables:plan", args=[project.pk])
    return Case("manager", url, None, "plan-0-title", "Planned, renamed", expect)


def _case_review_date(p, w):
    project = w["project"]

    def expect(world, data):
        world["Project"][project.pk]["handbook_review_on"] = date(2026, 9, 1)

    return Case(
        "manager",
        reverse("practices:handbook", args=[project.pk]),
        reverse("practices:handbook_review_date", args=[project.pk]),
        "review_on",
        "2026-09-01",
        expect,
    )


def _case_cycle_edit(p, w):
    def expect(world, data):
        world["ReviewCycle"][p.cycle.pk]["name"] = "Second half"

    url = reverse("reviews:cycle_edit", args=[p.cycle.pk])
    return Case("manager", url, None, "name", "Second half", expect)


def _case_expectations_edit(p, w):
    def expect(world, data):
        world["Review"][p.review.pk]["expectations"] = "Own the report, and present it."

    url = reverse("reviews:expectations_edit", args=[p.review.pk])
    return Case("manager", url, None, "expectations", "Own the report, and present it.", expect)


def _case_evaluation_edit(p, w):
    def expect(world, data):
        world["Review"][p.review.pk]["evaluation_comment"] = "Careful work, well explained."

    url = reverse("reviews:evaluation_edit", args=[p.review.pk])
    return Case("manager", url, None, "evaluation_comment", "Careful work, well explained.", expect)


def _case_self_assessment(p, w):
    def expect(world, data):
        world["Review"][p.review.pk]["self_assessment"] = "I learnt about labels."

    return Case(
        "person",
        reverse("reviews:review_detail", args=[p.review.pk]),
        reverse("reviews:self_assessment", args=[p.review.pk]),
        "self_assessment",
        "I learnt about labels.",
        expect,
    )


CASES = {
    "project_edit": _case_project_edit,
    "assignment_edit": _case_assignment_edit,
    "assignment_edit_inline": _case_assignment_edit_inline,
    "team_assign": _case_team_assign,
    "deliverable_edit": _case_deliverable_edit,
    "checklist": _case_checklist,
    "link_add": _case_link_add,
    "plan": _case_plan,
    "handbook_review_date": _case_review_date,
    "cycle_edit": _case_cycle_edit,
    "expectations_edit": _case_expectations_edit,
    "evaluation_edit": _case_evaluation_edit,
    "self_assessment": _case_self_assessment,
}


def _drawn(client, case: Case) -> dict:
    response = client.get(case.page)
    assert response.status_code == 200
    return form_data(response.content.decode(), action=case.action)


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("name", CASES)
def test_edit_form_keeps_every_field_it_does_not_change(client, practices, name, language):  # noqa: F811
    world = _world(practices)
    with translation.override(language):  # the plan proposes titles in the reader's language
        case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    client.cookies["django_language"] = language
    data = _drawn(client, case)
    assert case.field in data or case.value == "on", f"{case.field} is not drawn"
    data[case.field] = [case.value] if case.value else []
    before = snapshot(stamps=False)
    response = client.post(case.action or case.page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    expected = copy.deepcopy(before)
    case.expect(expected, data)
    assert snapshot(stamps=False) == expected


UNCHANGED = ["project_edit", "assignment_edit", "assignment_edit_inline", "deliverable_edit"]
UNCHANGED += ["checklist"]
UNCHANGED += ["handbook_review_date", "cycle_edit", "expectations_edit", "evaluation_edit"]
UNCHANGED += ["self_assessment"]


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("name", UNCHANGED)
def test_edit_form_saved_unchanged_changes_nothing(client, practices, name, language):  # noqa: F811
    world = _world(practices)
    case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    client.cookies["django_language"] = language
    data = _drawn(client, case)
    before = snapshot()
    response = client.post(case.action or case.page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert snapshot() == before


@pytest.mark.parametrize("language", ["en", "ja"])
def test_new_project_page_saves_what_it_offers(client, manager, language):
    """Creating is editing from the defaults: what the page offers is what is saved."""
    client.force_login(manager)
    client.cookies["django_language"] = language
    response = client.get(reverse("roles:project_create"))
    data = form_data(response.content.decode())
    data["name"] = ["Fraud detection"]
    response = client.post(reverse("roles:project_create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(name="Fraud detection")
    assert list(project.managers.all()) == [manager]
    assert set(project.required_roles.all()) == set(Role.objects.filter(required_by_default=True))
    assert project.escalation_days == 3
    assert project.status == "planning"
    assert (project.start_date, project.target_date, project.business_problem) == (None, None, "")


def _versions() -> dict:
    """Every version a form is checked against."""
    return {
        model.__name__: dict(model.objects.order_by("pk").values_list("pk", "version"))
        for model in (Project, Deliverable, ReviewCycle, Review)
    } | {"evaluation": dict(Review.objects.values_list("pk", "evaluation_version"))}


@pytest.mark.parametrize("name", UNCHANGED)
def test_an_edit_form_saved_unchanged_moves_no_version(client, practices, name):  # noqa: F811
    """A save that changes nothing must not refuse someone else's form drawn
    meanwhile (a new version, with no change to point out)."""
    world = _world(practices)
    case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    data = _drawn(client, case)
    before = _versions()
    response = client.post(case.action or case.page, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _versions() == before
