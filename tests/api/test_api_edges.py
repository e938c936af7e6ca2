"""Rough edges a new-user trial of the API found, each fixed as a class of problem:
query parameters (booleans and whole numbers, on every list), writes naming a
project the caller may not see (404, as reading it), per-field messages for bad
references, the 412's own wording, problem details in the reader's language, weak
ETags in If-Match, and the index at /api/v1/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from deliverables.services import deliverable_create
from mlteam.api.problems import INVALID_DETAIL, TITLES
from mlteam.api.serializers import no_such
from mlteam.api.versions import STALE_DETAIL
from roles.models import Role
from tests.factories import UserFactory, deliverable_type, role

from .conftest import PERSONAS, PROBLEM, client_as, expected_status, fingerprint

pytestmark = pytest.mark.django_db

DELIVERABLES = "/api/v1/deliverables/"
PROJECTS = "/api/v1/projects/"
WHOLE = "Enter a whole number."


@pytest.fixture
def world(personas):
    """`personas` with one overdue deliverable of `project` owned by `member`, and
    one not overdue."""
    overdue = deliverable_create(
        project=personas["project"],
        type=deliverable_type("analysis-report"),
        title="Late",
        owner=personas["member"],
        due_date=timezone.localdate() - timedelta(days=3),
        actor=personas["manager"],
    )
    on_time = deliverable_create(
        project=personas["project"],
        type=deliverable_type("analysis-report"),
        title="On time",
        owner=personas["member"],
        due_date=timezone.localdate() + timedelta(days=30),
        actor=personas["manager"],
    )
    return {**personas, "overdue": overdue, "on_time": on_time}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def _errors(body: dict) -> dict[str, dict]:
    return {error["field"]: error for error in body.get("errors", [])}


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- 1. query parameters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "overdue_only"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("", False),  # an empty value is an absent one, as on the web list
    ],
)
def test_overdue_reads_true_false_one_and_zero(world, value, overdue_only):
    client = client_as(world["manager"], "token")
    ids = _ids(client.get(f"{DELIVERABLES}?overdue={value}"))
    expected = {world["overdue"].pk} if overdue_only else {world["overdue"].pk, world["on_time"].pk}
    assert ids == expected


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        # Booleans: true/false/1/0 only (a web checkbox sends "on", the API does not).
        (f"{DELIVERABLES}?overdue=maybe", "overdue"),
        (f"{DELIVERABLES}?overdue=on", "overdue"),
        (f"{DELIVERABLES}?overdue=yes", "overdue"),
        ("/api/v1/projects/?archived=maybe", "archived"),
        ("/api/v1/projects/?archived=yes", "archived"),
        # Whole numbers, on every list that takes one.
        (f"{DELIVERABLES}?project=abc", "project"),
        (f"{DELIVERABLES}?role=1.5", "role"),
        (f"{DELIVERABLES}?type=x", "type"),
        (f"{DELIVERABLES}?owner=me", "owner"),
        (f"{DELIVERABLES}?due_within=soon", "due_within"),
        ("/api/v1/projects/?manager=abc", "manager"),
        # Page sizes: every paged list, the cursor-paged ones too (they used to
        # fall back to 50 in silence).
        (f"{DELIVERABLES}?page_size=abc", "page_size"),
        ("/api/v1/me/work/?page_size=abc", "page_size"),
        ("/api/v1/projects/?page_size=abc", "page_size"),
        ("/api/v1/projects/?page_size=0", "page_size"),
        ("/api/v1/projects/?page_size=201", "page_size"),
        ("/api/v1/people/?page_size=-1", "page_size"),
        ("/api/v1/people/?page_size=%C2%B2", "page_size"),  # a superscript two
        ("{deliverable}comments/?page_size=abc", "page_size"),
        ("{deliverable}links/?page_size=0", "page_size"),
        ("{deliverable}history/?page_size=999", "page_size"),
    ],
)
def test_a_bad_boolean_or_number_in_a_query_is_a_400_naming_it(world, url, parameter):
    url = url.format(deliverable=f"{DELIVERABLES}{world['overdue'].pk}/")
    body = _problem(client_as(world["manager"], "token").get(url), 400)
    assert body["code"] == "invalid"
    assert list(_errors(body)) == [parameter]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("project=abc", "Enter a whole number."),
        ("project=999999", "No such project."),
        ("owner=999999", "No such person."),
        ("type=999999", "No such deliverable type."),
        ("role=99999999999999999999", "No such role."),
        ("overdue=maybe", "Use true or false (or 1 or 0)."),
    ],
)
def test_a_bad_filter_is_worded_for_the_api(world, query, message):
    body = _problem(client_as(world["manager"], "token").get(f"{DELIVERABLES}?{query}"), 400)
    assert [error["detail"] for error in body["errors"]] == [message]


def test_a_project_the_caller_cannot_see_is_no_such_project_in_a_filter(world):
    other = world["other_project"].pk
    body = _problem(client_as(world["member"], "token").get(f"{DELIVERABLES}?project={other}"), 400)
    assert _errors(body)["project"]["detail"] == "No such project."


@pytest.mark.parametrize(("value", "archived"), [("1", True), ("TRUE", True), ("0", False)])
def test_archived_reads_true_false_one_and_zero(world, value, archived):
    project = world["project"]
    from roles.services import project_archive

    project_archive(project=project, actor=world["manager"], version=project.version)
    ids = _ids(client_as(world["manager"], "token").get(f"/api/v1/projects/?archived={value}"))
    assert (project.pk in ids) is archived


def test_the_project_list_reads_the_web_lists_filter_form(world):
    """A manager filter names someone who manages a project the caller sees
    (the web list's choices): anyone else is no such person, not an empty list."""
    client = client_as(world["member"], "token")
    manager = world["manager"].pk
    assert _ids(client.get(f"/api/v1/projects/?manager={manager}")) == {world["project"].pk}
    other = world["other_manager"].pk
    body = _problem(client.get(f"/api/v1/projects/?manager={other}"), 400)
    assert _errors(body)["manager"]["detail"] == "No such person."


def test_the_people_directory_reads_the_web_lists_filter_form(world):
    client = client_as(world["manager"], "token")
    response = client.get("/api/v1/people/?q=api-member")
    assert _ids(response) == {world["member"].pk}
    _problem(client.get("/api/v1/people/?q=" + "x" * 201), 400)


# --- 2. writes naming what the caller may not see ---------------------------------------

# Planning in each project, by persona: the project's manager and admins plan
# (201); its member sees it but may not (403); for the others it does not exist
# (404), exactly as when they read it; a project that does not exist is a 404 too.
PLAN_MATRIX = {
    "project": {
        "outsider": 404,
        "member": 403,
        "manager": 201,
        "other_manager": 404,
        "admin": 201,
    },
    "other_project": {
        "outsider": 404,
        "member": 404,
        "manager": 404,
        "other_manager": 201,
        "admin": 201,
    },
    "missing": dict.fromkeys(PERSONAS[1:], 404),
}


@pytest.mark.parametrize("target", list(PLAN_MATRIX))
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("mode", ["session", "token", "read_only_token"])
def test_planning_answers_as_reading_the_project_does(world, target, persona, mode):
    project = world[target].pk if target != "missing" else 999999
    allowed = PLAN_MATRIX[target].get(persona, 401)
    status = expected_status(persona, mode, allowed if allowed < 400 else 0, allowed, write=True)
    if allowed == 201 and mode == "read_only_token":
        status = 403
    body = {"project": project, "type": deliverable_type("data-pipeline").pk}
    client = client_as(world[persona], mode)
    before = fingerprint()
    response = client.post(DELIVERABLES, body, format="json")
    assert response.status_code == status, response.content
    if status == 201:
        assert fingerprint() != before
    else:
        assert response["Content-Type"] == PROBLEM
        assert fingerprint() == before
    if status == 404:
        # The same answer as reading a project one may not see: nothing to tell apart.
        assert response.json()["detail"] == "Not found."


@pytest.mark.parametrize("persona", ["outsider", "other_manager"])
@pytest.mark.parametrize(
    ("method", "tail", "body"),
    [
        ("post", "team/", lambda w: {"person": w["outsider"].pk}),
        ("post", "team/{membership}/roles/", lambda w: {"role": role("data-scientist").pk}),
        ("patch", "", lambda w: {"name": "Renamed"}),
        ("post", "archive/", lambda w: None),
    ],
)
def test_writes_in_a_project_the_caller_cannot_see_are_404(world, persona, method, tail, body):
    membership = world["project"].memberships.get(user=world["member"])
    url = f"/api/v1/projects/{world['project'].pk}/{tail.format(membership=membership.pk)}"
    before = fingerprint()
    response = getattr(client_as(world[persona], "token"), method)(url, body(world), format="json")
    assert _problem(response, 404)["code"] == "not_found"
    assert fingerprint() == before


# --- 3. messages for bad references -----------------------------------------------------


def _team(world) -> str:
    return f"/api/v1/projects/{world['project'].pk}/team/"


@pytest.mark.parametrize(
    ("person", "message"),
    [
        ("abc", "Enter a whole number."),
        (1.5, "Enter a whole number."),
        (True, "Enter a whole number."),
        ([1], "Enter a whole number."),
        (999999, "No such person."),
        (99999999999999999999, "No such person."),
        ("member", "This person is already on the team."),
    ],
)
def test_adding_to_the_team_says_what_is_wrong_with_the_person(world, person, message):
    person = world[person].pk if person == "member" else person
    before = fingerprint()
    response = client_as(world["manager"], "token").post(
        _team(world), {"person": person}, format="json"
    )
    assert _errors(_problem(response, 400))["person"]["detail"] == message
    assert fingerprint() == before


def test_an_inactive_person_is_no_such_person(world):
    gone = UserFactory(is_active=False)
    response = client_as(world["manager"], "token").post(
        _team(world), {"person": gone.pk}, format="json"
    )
    assert _errors(_problem(response, 400))["person"]["detail"] == "No such person."


@pytest.mark.parametrize(
    ("url", "body", "field", "message"),
    [
        (DELIVERABLES, {"project": "x", "type": 1}, "project", "Enter a whole number."),
        (DELIVERABLES, {"project": "{project}", "type": "x"}, "type", "Enter a whole number."),
        (
            DELIVERABLES,
            {"project": "{project}", "type": 999999},
            "type",
            "No such deliverable type.",
        ),
        (
            DELIVERABLES,
            {"project": "{project}", "type": "{type}", "owner": "abc"},
            "owner",
            "Enter a whole number.",
        ),
        ("{deliverable}", {"type": "abc"}, "type", "Enter a whole number."),
        ("{deliverable}", {"type": 999999}, "type", "No such deliverable type."),
        ("{deliverable}", {"owner": False}, "owner", "Enter a whole number."),
        (
            "/api/v1/projects/",
            {"name": "N", "managers": ["abc"]},
            "managers",
            "Enter a whole number.",
        ),
        (
            "/api/v1/projects/",
            {"name": "N", "managers": [999999]},
            "managers",
            "No such person among those who may manage projects.",
        ),
        (
            "/api/v1/projects/",
            {"name": "N", "required_roles": [999999]},
            "required_roles",
            "No such role.",
        ),
        (
            "/api/v1/projects/",
            {"name": "N", "required_roles": ["x"]},
            "required_roles",
            "Enter a whole number.",
        ),
        ("{roles}", {"role": "abc"}, "role", "Enter a whole number."),
        ("{roles}", {"role": 999999}, "role", "No such role."),
    ],
)
def test_a_bad_reference_has_a_clear_message_for_its_field(world, url, body, field, message):
    membership = world["project"].memberships.get(user=world["member"])
    places = {
        "project": world["project"].pk,
        "type": deliverable_type("analysis-report").pk,
    }
    body = {
        k: places[v[1:-1]] if isinstance(v, str) and v[1:-1] in places else v
        for k, v in body.items()
    }
    url = url.format(
        deliverable=f"{DELIVERABLES}{world['overdue'].pk}/",
        roles=f"{_team(world)}{membership.pk}/roles/",
    )
    client = client_as(world["manager"], "token")
    method = client.patch if url.startswith(DELIVERABLES) and url != DELIVERABLES else client.post
    before = fingerprint()
    errors = _errors(_problem(method(url, body, format="json"), 400))
    assert errors[field]["detail"] == message, errors
    assert fingerprint() == before


@pytest.mark.parametrize(("value", "english"), [("abc", WHOLE), (999999, "No such role.")])
def test_reference_messages_follow_accept_language(world, value, english):
    membership = world["project"].memberships.get(user=world["member"])
    url = f"{_team(world)}{membership.pk}/roles/"
    client = client_as(world["manager"], "token")
    answers = {
        language: _errors(
            _problem(
                client.post(url, {"role": value}, format="json", HTTP_ACCEPT_LANGUAGE=language),
                400,
            )
        )["role"]["detail"]
        for language in ("en", "ja")
    }
    assert answers["en"] == english
    expected = {WHOLE: "整数を入力してください。"}.get(english) or _in_japanese(no_such(Role))
    assert answers["ja"] == expected != english


# --- 4 and 6. If-Match: stale and weak --------------------------------------------------


def _edit(world, if_match: str, **headers):
    return client_as(world["manager"], "token").patch(
        f"{DELIVERABLES}{world['overdue'].pk}/",
        {"title": "Renamed"},
        format="json",
        HTTP_IF_MATCH=if_match,
        **headers,
    )


def test_a_stale_write_is_worded_for_the_api(world):
    deliverable = world["overdue"]
    body = _problem(_edit(world, f'"{deliverable.version + 5}"'), 412)
    assert body["code"] == "stale"
    assert "reload" not in body["detail"] and "page" not in body["detail"]
    assert "`current`" in body["detail"] and "If-Match" in body["detail"]
    assert body["current"]["version"] == deliverable.version  # the shape is kept


@pytest.mark.parametrize("tail", ["", "transition/", "cancel/"])
def test_a_weak_etag_never_matches(world, tail):
    deliverable = world["overdue"]
    body = {"": {"title": "Renamed"}, "transition/": {"status": "in_progress"}}.get(
        tail, {"reason": "Dropped."}
    )
    before = fingerprint()
    response = (
        client_as(world["manager"], "token").post(
            f"{DELIVERABLES}{deliverable.pk}/{tail}",
            body,
            format="json",
            HTTP_IF_MATCH=f'W/"{deliverable.version}"',
        )
        if tail
        else _edit(world, f'W/"{deliverable.version}"')
    )
    problem = _problem(response, 412)
    assert problem["code"] == "weak_etag" and "W/" in problem["detail"]
    assert fingerprint() == before


def test_a_weak_etag_is_refused_even_when_the_write_would_change_nothing(world):
    """Archiving an archived project changes nothing, but its If-Match is still read."""
    project = world["project"]
    client = client_as(world["manager"], "token")
    url = f"/api/v1/projects/{project.pk}/archive/"
    assert client.post(url).status_code == 200
    project.refresh_from_db()
    _problem(client.post(url, HTTP_IF_MATCH=f'W/"{project.version}"'), 412)


def test_a_strong_etag_and_a_star_still_match(world):
    deliverable = world["overdue"]
    assert _edit(world, f'"{deliverable.version}"').status_code == 200
    response = client_as(world["admin"], "token").patch(
        f"{DELIVERABLES}{deliverable.pk}/", {"title": "Again"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200, response.content


# --- 5. problem details in the reader's language ----------------------------------------


def _in_japanese(text) -> str:
    with override("ja"):
        return str(text)


def _in_english(text) -> str:
    with override("en"):
        return str(text)


def _call(status: int, client, world, language: str):
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    deliverable = f"{DELIVERABLES}{world['overdue'].pk}/"
    if status == 400:
        return client.get(f"{DELIVERABLES}?overdue=maybe&due_within=x", **headers)
    if status == 403:  # the member sees the project but does not manage it
        body = {"project": world["project"].pk, "type": deliverable_type("data-pipeline").pk}
        return client.post(DELIVERABLES, body, format="json", **headers)
    if status == 404:
        return client.get("/api/v1/nothing/", **headers)
    if status == 405:
        return client.delete(DELIVERABLES, **headers)
    if status == 412:
        return client.post(
            f"{deliverable}transition/",
            {"status": "in_progress"},
            format="json",
            HTTP_IF_MATCH='"999999"',
            **headers,
        )
    if status == 415:
        return client.post(DELIVERABLES, "a=b", content_type="text/plain", **headers)
    raise AssertionError(status)


@pytest.mark.parametrize("status", [400, 403, 404, 405, 412, 415])
def test_problems_title_and_detail_follow_accept_language(world, status):
    client = client_as(world["member"], "token")
    english = _problem(_call(status, client, world, "en"), status)
    japanese = _problem(_call(status, client, world, "ja"), status)
    assert english["title"] == _in_english(TITLES[status])
    assert japanese["title"] == _in_japanese(TITLES[status])
    assert japanese["code"] == english["code"]
    if status in {400, 412}:  # the API's own sentences
        detail = {400: INVALID_DETAIL, 412: STALE_DETAIL}[status]
        assert english["detail"] == _in_english(detail)
        assert japanese["detail"] == _in_japanese(detail)
    else:  # DRF's and the apps' sentences, translated by their catalogues today
        assert japanese["detail"] != english["detail"]


def test_a_429_follows_accept_language_too(world, monkeypatch):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "1/minute"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    client = client_as(world["member"], "token")
    assert client.get("/api/v1/roles/").status_code == 200
    english = _problem(client.get("/api/v1/roles/", HTTP_ACCEPT_LANGUAGE="en"), 429)
    japanese = _problem(client.get("/api/v1/roles/", HTTP_ACCEPT_LANGUAGE="ja"), 429)
    assert english["title"] == "Too Many Requests"
    assert japanese["title"] == _in_japanese(TITLES[429])
    assert japanese["detail"] != english["detail"]  # DRF's own catalogue


def test_every_title_the_api_sends_is_translatable():
    """Each status a problem may have (the schema's) has a title in TITLES."""
    from mlteam.api.schema import _REASONS

    assert {int(code) for code in _REASONS} | {405} <= set(TITLES)


# --- 8. the index -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["anonymous", "member"])
def test_the_index_links_the_schema_the_docs_and_the_collections(world, persona):
    response = client_as(world[persona], "token").get("/api/v1/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["schema"] == "http://testserver/api/v1/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["collections"] == {
        name: f"http://testserver/api/v1/{name}/"
        for name in [
            "roles",
            "projects",
            "people",
            "deliverable-types",
            "deliverables",
            "me/work",
        ]
    }
    reader = client_as(world["member"], "read_only_token")
    for url in [body["schema"], *body["collections"].values()]:
        assert reader.get(url).status_code == 200, url


def test_the_index_is_in_the_schema_and_open_to_anyone(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/"]["get"]
    assert operation["operationId"] == "api_index"
    assert {} in operation["security"]  # no credentials needed
    assert api.post("/api/v1/").status_code == 405  # only GET is an operation
