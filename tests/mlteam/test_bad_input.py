"""Issue 12, item 17: bad input never gives a server error.

Every query parameter and every choice goes through a form field that refuses
what the database cannot take: NUL characters, text longer than any column,
ids beyond the integer range, dates that do not exist. Runs on SQLite and on
PostgreSQL (CI), which refuse different things.
"""

from __future__ import annotations

import importlib

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from deliverables.models import DeliverableLink
from mlteam.forms import QueryForm
from roles.models import Project, RoleAssignment
from tests.factories import role
from tests.mlteam.test_edit_round_trip import CASES, _world, snapshot
from tests.practices.conftest import Practices, practices  # noqa: F401 (fixture)

HUGE = str(10**30)
BAD_VALUES = {
    "nul": "a\x00b",
    "long": "x" * 100_000,
    "huge": HUGE,
    "negative": "-1",
    "bad_date": "2026-02-30",
}
# The pages that read query parameters (the others get them all at once too).
LISTS = {
    "roles:project_list",
    "roles:project_activity",
    "roles:portfolio_coverage",
    "roles:people_list",
    "deliverables:list",
    "deliverables:export",
    "deliverables:my_work",
    "deliverables:portfolio_dashboard",
    "reviews:cycle_list",
}
FORMS_MODULES = [
    "roles.forms",
    "deliverables.forms",
    "deliverables.practices.forms",
    "deliverables.reviews.forms",
]


def _query_parameters() -> list[str]:
    """Every parameter a list reads (from the query forms), plus ones no list reads."""
    for module in FORMS_MODULES:
        importlib.import_module(module)
    names = {"page", "sort", "order", "q", "utm_source"}
    pending = [QueryForm]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        names |= set(form_class.base_fields)
    return sorted(names)


def _url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name and namespace:
                names.add(f"{namespace}:{entry.name}")

    walk(get_resolver().url_patterns, None)
    return {n for n in names if n.split(":")[0] in {"roles", "deliverables", "practices"}}


def _pages(p: Practices) -> dict[str, str]:
    """Every page of the apps, with ids of rows the manager may see."""
    _world(p)
    project, report = p.project.pk, p.report.pk
    assignment = RoleAssignment.objects.filter(membership__project=p.project).first()
    link = DeliverableLink.objects.filter(deliverable=p.report).first()
    kwargs = {
        "roles:project_detail": [project],
        "roles:project_activity": [project],
        "roles:project_panels": [project],
        "roles:project_edit": [project],
        "roles:project_archive": [project],
        "roles:project_unarchive": [project],
        "roles:project_team": [project],
        "roles:team_candidates": [project],
        "roles:team_add": [project],
        "roles:team_invite": [project],
        "roles:team_remove": [project, assignment.membership_id],
        "roles:team_assign": [project, assignment.membership_id],
        "roles:team_cell": [project, assignment.membership_id, assignment.role_id],
        "roles:assignment_edit": [project, assignment.pk],
        "roles:assignment_remove": [project, assignment.pk],
        "roles:role_detail": [role("data-scientist").slug],
        "deliverables:detail": [report],
        "deliverables:transition": [report],
        "deliverables:cancel": [report],
        "deliverables:checklist": [report],
        "deliverables:checklist_item": [report, p.report.checklist_items.first().pk],
        "deliverables:edit": [report],
        "deliverables:link_add": [report],
        "deliverables:link_remove": [report, link.pk],
        "deliverables:comment_add": [report],
        "deliverables:add": [project],
        "deliverables:plan": [project],
        "deliverables:project_board": [project],
        "deliverables:move": [report],
        "deliverables:inline": [report],
        "practices:handbook": [project],
        "practices:handbook_newcomer": [project],
        "practices:handbook_review_date": [project],
        "practices:handbook_question_add": [project],
        "practices:handbook_question_remove": [project, p.question.pk],
        "reviews:cycle_detail": [p.cycle.pk],
        "reviews:cycle_edit": [p.cycle.pk],
        "reviews:expectations_create": [p.cycle.pk, p.people["other_member"].pk],
        "reviews:review_detail": [p.review.pk],
        "reviews:expectations_edit": [p.review.pk],
        "reviews:expectations_acknowledge": [p.review.pk],
        "reviews:evaluation_edit": [p.review.pk],
        "reviews:evaluation_acknowledge": [p.review.pk],
        "reviews:self_assessment": [p.review.pk],
    }
    return {name: reverse(name, args=kwargs.get(name, [])) for name in sorted(_url_names())}


def _get(client, url, params):
    response = client.get(url, params)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # the CSV's rows are read while streaming
    return response


# --- the two cases named in the issue ---------------------------------------------------


def test_people_search_with_a_nul_character_is_not_a_server_error(client, manager):
    client.force_login(manager)
    response = client.get(reverse("roles:people_list"), {"q": "\x00"})
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["managers", "required_roles"])
@pytest.mark.parametrize("page", ["create", "edit"])
def test_project_form_refuses_an_id_beyond_the_integer_range(client, practices, field, page):  # noqa: F811
    client.force_login(practices.people["manager"])
    url = (
        reverse("roles:project_create")
        if page == "create"
        else reverse("roles:project_edit", args=[practices.project.pk])
    )
    data = {
        "name": "Fraud detection",
        "managers": [practices.people["manager"].pk],
        "status": "planning",
        "version": practices.project.version,
        field: [HUGE],
    }
    before = snapshot()
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert snapshot() == before
    assert not Project.objects.filter(name="Fraud detection").exists()


# --- every page, every query parameter --------------------------------------------------


def test_every_page_of_the_apps_is_fuzzed(practices):  # noqa: F811
    """A new URL needs ids in `_pages` before the fuzz below can reach it."""
    assert all("None" not in url for url in _pages(practices).values())


@pytest.mark.parametrize("value", BAD_VALUES)
def test_no_page_answers_a_bad_query_parameter_with_a_server_error(client, practices, value):  # noqa: F811
    """On every page all parameters at once; on the lists also each one alone."""
    client.force_login(practices.people["manager"])
    bad = BAD_VALUES[value]
    parameters = _query_parameters()
    failures = []
    for name, url in _pages(practices).items():
        if _get(client, url, {}).status_code == 405:
            continue  # POST only: covered by the form tests
        alone = [{p: bad} for p in parameters] if name in LISTS else []
        for params in [*alone, dict.fromkeys(parameters, bad)]:
            try:
                response = _get(client, url, params)
            except Exception as error:
                failures.append((name, sorted(params)[:3], repr(error)[:200]))
                continue
            if response.status_code not in {200, 302, 400}:
                failures.append((name, sorted(params)[:3], response.status_code))
    assert failures == []


# --- every form, every field ------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_edit_forms_refuse_bad_values_without_a_server_error_or_half_save(
    client,
    practices,  # noqa: F811
    name,
):
    """Each field of each form the round-trip test drives, set to each bad value."""
    world = _world(practices)
    case = CASES[name](practices, world)
    client.force_login(practices.people[case.user])
    drawn = _drawn_data(client, case)
    failures = []
    for field in drawn:
        for value, bad in BAD_VALUES.items():
            data = {**drawn, field: [bad]}
            before = snapshot()
            try:
                response = client.post(case.action or case.page, data)
            except Exception as error:
                failures.append((field, value, repr(error)[:200]))
                continue
            if response.status_code >= 500:
                failures.append((field, value, response.status_code))
            elif response.status_code != 302 and snapshot() != before:
                failures.append((field, value, "refused, but saved in part"))
            if response.status_code == 302:  # accepted (text): the page has a new version
                try:
                    drawn = _drawn_data(client, case)
                except AssertionError:  # the form is gone (the plan was made)
                    return
    assert failures == []


def _drawn_data(client, case):
    from tests.html_forms import form_data

    return form_data(client.get(case.page).content.decode(), action=case.action)


# --- the fields themselves ---------------------------------------------------------------


def _form_classes():
    classes = []
    for module_name in FORMS_MODULES:
        module = importlib.import_module(module_name)
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, forms.BaseForm)
                and obj.__module__ == module_name
            ):
                classes.append(obj)
    return classes


def test_every_form_field_bounds_what_it_accepts():
    """Ids within the integer range, text no longer than a column, textareas that
    keep their line breaks: one field class each, used by every form."""
    from mlteam.forms import (
        BoundedModelChoiceField,
        BoundedModelMultipleChoiceField,
        DateField,
        MultilineField,
    )

    problems = []
    for form_class in _form_classes():
        for name, field in form_class.base_fields.items():
            if issubclass(form_class, forms.ModelForm) and name not in form_class.declared_fields:
                continue  # from the model: its validators run on every save
            where = f"{form_class.__name__}.{name}"
            if isinstance(field, forms.ModelMultipleChoiceField):
                if not isinstance(field, BoundedModelMultipleChoiceField):
                    problems.append(f"{where}: unbounded ids")
            elif isinstance(field, forms.ModelChoiceField):
                if not isinstance(field, BoundedModelChoiceField):
                    problems.append(f"{where}: unbounded id")
            elif isinstance(field, forms.DateField):
                if not isinstance(field, DateField):
                    problems.append(f"{where}: dates beyond the calendar")
            elif isinstance(field, forms.IntegerField) and field.max_value is None:
                problems.append(f"{where}: no largest value")
            elif isinstance(field, forms.CharField) and not isinstance(
                field, (forms.URLField, forms.EmailField)
            ):
                if field.max_length is None:
                    problems.append(f"{where}: no longest text")
                if isinstance(field.widget, forms.Textarea) and not isinstance(
                    field, MultilineField
                ):
                    problems.append(f"{where}: textarea without MultilineField")
    assert problems == []


# --- dates no calendar reaches ------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_dates_beyond_the_calendar_are_refused_where_pages_count_from_them(client, practices, day):  # noqa: F811
    """A project starting on 31 Dec 9999 made the plan page add days past the last date."""
    client.force_login(practices.people["manager"])
    pages = _pages(practices)
    url = reverse("roles:project_edit", args=[practices.project.pk])
    data = _drawn_data_for(client, url)
    data["start_date"] = [day]
    data["target_date"] = []
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors["start_date"]
    for name, page in pages.items():
        if name.startswith("roles:project") or name == "deliverables:plan":
            assert client.get(page).status_code < 500, name


def _drawn_data_for(client, url):
    from tests.html_forms import form_data

    return form_data(client.get(url).content.decode())
