"""Schemathesis against the API's own OpenAPI schema (/api/v1/schema/), in process.

Every operation the schema lists is called, whatever app registered it, as an
admin and as a project manager with personal tokens, on seeded data: a project
with a team and role assignments, deliverables, a comment and a link, and a
project the manager does not manage. Path parameters are drawn from the ids the
API itself lists (so `/…/{id}/` reaches real rows, visible or not to the caller)
or left as generated (unknown ids).

- Stateless: each operation, valid and invalid input (a few hundred cases in all),
  derandomized; every response must be no 5xx, a documented status with a body of
  the documented shape and content type.
- Stateful: schemathesis' state machine follows the schema's OpenAPI links
  (mlteam.api.schema.operation_links: from a create or a list to the item's
  operations), with the same checks.

The data is made once for the module; each case runs in a savepoint rolled back
after it (each scenario, for the state machine), so every case starts from the
same data and nothing leaks into other tests. Requests go straight to Django's
WSGI handler in this thread, on the test database's connection (`application`).
"""

from __future__ import annotations

import re
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deliverables.models import DeliverableStatus, LinkKind
from deliverables.services import comment_add, deliverable_create, link_add
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, admin_user, deliverable_type, manager_user, role

from .conftest import token_for

SCHEMA_PATH = "/api/v1/schema/"
# Cases per operation and persona: with about 40 operations, a few hundred cases
# in all (the stateless run takes about a minute on a CI machine).
MAX_EXAMPLES = 6
# State machine: scenarios per persona and steps per scenario.
MAX_SCENARIOS = 25
MAX_STEPS = 8
PERSONAS = ("admin", "manager")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # Tokens come from the fixtures (`headers` below), never generated.
            "with-security-parameters": False,
        },
        # The coverage phase enumerates every boundary of every field: hundreds
        # of cases for one operation. The fuzzing phase samples them instead.
        "phases": {"coverage": {"enabled": False}},
    }
)

DJANGO = WSGIHandler()


def application(environ, start_response):
    """Django, answering in this thread on the test's database connection: its
    "close old connections" (on a request's start and end) is switched off while
    it runs, as Django's test client does, and the answer is read and closed here
    (the end of a request) so that nothing closes the connection later."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = DJANGO(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=CONFIG)

pytestmark = pytest.mark.django_db

# Path parameters of real rows, by the operation's path template (filled in by
# the `world` fixture, read by the hook below while cases are generated).
KNOWN_PARAMETERS: dict[str, list[dict]] = {}
# Ids of real rows by the name a filter or a body field gives them (`project`,
# `role`, `type`, `owner`…), from the same lists.
KNOWN_IDS: dict[str, list[int]] = {}
# Field names that name a collection's rows by another word.
ALIASES = {"person": ("owner", "user")}


def _sometimes_known(values: dict, by_name: dict[str, list]) -> st.SearchStrategy:
    """Each integer field named like a collection's rows: one of its real ids, most
    of the time, or what was generated (other values are left as they are)."""
    fields = {
        name: st.one_of(st.sampled_from(by_name[name]), st.just(value))
        for name, value in values.items()
        if name in by_name and isinstance(value, int) and not isinstance(value, bool)
    }
    if not fields:
        return st.just(values)
    return st.fixed_dictionaries(fields).map(lambda drawn: {**values, **drawn})


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """A real row's parameters, most of the time, or what was generated."""
    known = KNOWN_PARAMETERS.get(context.operation.path) if context.operation else None
    if not known or not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return st.one_of(
        st.sampled_from([{**path_parameters, **values} for values in known]),
        st.just(path_parameters),
    )


@schema.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    return _sometimes_known(query, KNOWN_IDS)


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    return _sometimes_known(body, KNOWN_IDS)


def seed() -> dict:
    """A project with a team and work, a project the manager does not see, and
    the admin's and the manager's personal tokens."""
    today = timezone.localdate()
    manager = manager_user(username="fuzz-manager")
    other_manager = manager_user(username="fuzz-other-manager")
    admin = admin_user(username="fuzz-admin")
    aiko = UserFactory(username="fuzz-aiko")
    ben = UserFactory(username="fuzz-ben")
    project = project_create(name="Fraud detection", managers=[manager], actor=manager)
    hidden = project_create(name="Churn", managers=[other_manager], actor=other_manager)
    team = {}
    for person in (manager, aiko, ben):
        team[person] = membership_add(project=project, user=person, actor=manager)
    membership_add(project=hidden, user=other_manager, actor=other_manager)
    role_assign(membership=team[aiko], role=role("data-scientist"), allocation_percent=60)
    role_assign(membership=team[ben], role=role("ml-engineer"), allocation_percent=40)
    prd = deliverable_create(
        project=project, type=deliverable_type("prd"), owner=aiko, actor=manager
    )
    deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        owner=ben,
        due_date=today - timedelta(days=3),
        status=DeliverableStatus.IN_PROGRESS,
        actor=manager,
    )
    deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        owner=aiko,
        due_date=today + timedelta(days=5),
        status=DeliverableStatus.BLOCKED,
        blocked_reason="Waiting for the labelled data.",
        actor=manager,
    )
    deliverable_create(project=hidden, type=deliverable_type("prd"), actor=other_manager)
    comment_add(deliverable=prd, actor=aiko, body="First draft is up.")
    link_add(
        deliverable=prd,
        actor=aiko,
        kind=LinkKind.DOCUMENT,
        url="https://docs.example.com/prd",
        label="Draft",
    )
    return {
        "admin": {"Authorization": f"Bearer {token_for(admin, name='fuzz')}"},
        "manager": {"Authorization": f"Bearer {token_for(manager, name='fuzz')}"},
    }


def _rows(body) -> list[dict]:
    """A list's rows: the array, a page's `results`, or an object's one array
    (a team's `members`, a checklist's `items`)."""
    if isinstance(body, dict):
        arrays = [value for value in body.values() if isinstance(value, list)]
        body = body["results"] if "results" in body else arrays[0] if len(arrays) == 1 else []
    return [row for row in body or [] if isinstance(row, dict)]


def known_ids(known: dict[str, list[dict]]) -> dict[str, list[int]]:
    """Real ids by the names fields give them: `/api/v1/projects/{id}/` gives
    `project`, `/api/v1/deliverable-types/{id}/` `deliverable_type` and `type`,
    `/api/v1/people/{id}/` `person`, `owner` and `user`."""
    by_name: dict[str, list[int]] = {}
    for template, assignments in known.items():
        match = re.match(r"^/api/v1/([a-z-]+)/\{(\w+)\}/$", template)
        if not match:
            continue
        plural, param = match.groups()
        singular = "person" if plural == "people" else plural.removesuffix("s")
        names = {singular.replace("-", "_"), singular.rsplit("-", 1)[-1]}
        names.update(ALIASES.get(singular, ()))
        ids = [values[param] for values in assignments if isinstance(values[param], int)]
        for name in names:
            if ids:
                by_name.setdefault(name, ids)
    return by_name


def known_parameters(raw_schema: dict, headers: dict, per_collection: int = 3) -> dict:
    """For each path template with parameters: up to a few assignments of real
    values, read from the collections' lists (`/…/{id}/` from `/…/`), parents first."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=headers["Authorization"])
    paths = raw_schema["paths"]
    by_collection: dict[tuple[str, str], list[dict]] = {}

    def assignments(template: str) -> list[dict]:
        """Values for every parameter of `template` (a path ending in `{param}/…`)."""
        names = re.findall(r"\{([^}/]+)\}", template)
        if not names:
            return [{}]
        last = names[-1]
        collection = template.split("{" + last + "}", 1)[0]
        if (collection, last) in by_collection:
            return by_collection[collection, last]
        found = []
        if "get" in paths.get(collection, {}):
            for parents in assignments(collection)[:per_collection]:
                url = collection.format(**parents)
                response = client.get(url)
                if response.status_code != 200:
                    continue
                for row in _rows(response.json())[:per_collection]:
                    value = row.get(last, row.get("id"))
                    if value is not None:
                        found.append({**parents, last: value})
        by_collection[collection, last] = found
        return found

    known = {}
    for template in paths:
        if "{" in template:
            values = assignments(template.rsplit("}", 1)[0] + "}/")
            if values:
                known[template] = values
    return known


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The data, made once for the module in a transaction rolled back after it
    (each test's own changes are rolled back to it by the `db` fixture)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            tokens = seed()
            KNOWN_PARAMETERS.update(known_parameters(schema.raw_schema, tokens["admin"]))
            KNOWN_IDS.update(known_ids(KNOWN_PARAMETERS))
            yield tokens
        finally:
            KNOWN_PARAMETERS.clear()
            KNOWN_IDS.clear()
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(seeded, db):
    return seeded


@pytest.fixture(params=PERSONAS)
def headers(request, world):
    return world[request.param]


def call_and_check(case, headers):
    """One case in a savepoint rolled back after it; the throttles' counts are
    cleared so that hundreds of calls in a minute are never answered 429."""
    cache.clear()
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS, headers=headers)
    return response


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    derandomize=True,  # the same cases on every run and machine
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented(case, headers):
    call_and_check(case, headers)


@pytest.mark.parametrize("persona", PERSONAS)
def test_stateful_scenarios_answer_as_documented(world, persona):
    headers = world[persona]
    followed: set[str] = set()  # operations reached through a link, with a 2xx

    class Scenarios(schema.as_state_machine()):
        def setup(self):
            cache.clear()
            self._savepoint = transaction.atomic()
            self._savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._savepoint.__exit__(None, None, None)

        def step(self, input):
            output = super().step(input)
            linked = input.transition is not None and input.is_applied
            if linked and output.response.status_code < 300:
                followed.add(input.case.operation.label)
            return output

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=MAX_SCENARIOS,
            stateful_step_count=MAX_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    # The scenarios went somewhere: ids handed over by links reached several
    # operations (which ones depends on the database's ids and on what ran before:
    # SQLite and PostgreSQL, alone or in the whole suite, explore differently).
    assert len(followed) >= 3, followed


def test_known_parameters_name_real_rows(world):
    """The ids the cases are given are real: each reaches its row (as the admin)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=world["admin"]["Authorization"])
    reached = {}
    for template, assignments in KNOWN_PARAMETERS.items():
        if "get" in schema.raw_schema["paths"][template]:
            reached[template] = client.get(template.format(**assignments[0])).status_code
    assert reached and set(reached.values()) == {200}, reached
    # …and named for the filters and fields that take them.
    assert KNOWN_IDS["role"] == [row["id"] for row in client.get("/api/v1/roles/").json()][:3]


def test_the_schema_links_every_item_operation_from_its_collection():
    """The state machine has somewhere to go: each operation on an item (`C{id}/`)
    is reached by a link from its collection's list or create (operation_links)."""
    paths = schema.raw_schema["paths"]
    missing = []
    for path, operations in paths.items():
        item = re.match(r"^(.*/)\{[^}/]+\}/$", path)
        if not item or item.group(1) not in paths:
            continue
        linked = {
            link.get("operationId")
            for source in paths[item.group(1)].values()
            for response in source["responses"].values()
            for link in response.get("links", {}).values()
        }
        missing += [
            f"{method.upper()} {path}"
            for method, operation in operations.items()
            if operation["operationId"] not in linked
        ]
    assert missing == []
    assert paths["/api/v1/roles/"]["get"]["responses"]["200"]["links"]
