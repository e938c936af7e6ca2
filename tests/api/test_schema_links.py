"""The schema's OpenAPI links (mlteam.api.schema.operation_links), derived from the
paths alone, and the 404 problem for any path under /api/v1/ that names nothing."""

from __future__ import annotations

import copy

import pytest
from django.core.management import call_command

from mlteam.api.schema import operation_links

from .conftest import PROBLEM, bearer, token_for

ITEM = {"$ref": "#/components/schemas/Project"}
IF_MATCH = {"in": "header", "name": "If-Match", "schema": {"type": "string"}}


def _json(schema, code="200", **extra):
    return {code: {"content": {"application/json": {"schema": schema}}, **extra}}


def _operation(operation_id, responses=None, parameters=()):
    return {
        "operationId": operation_id,
        "parameters": list(parameters),
        "responses": responses or {"204": {"description": ""}},
    }


SCHEMA = {
    "paths": {
        "/api/v1/projects/": {
            "get": _operation(
                "projects_list", _json({"$ref": "#/components/schemas/PaginatedProjectList"})
            ),
            "post": _operation("projects_create", _json(ITEM, "201")),
        },
        "/api/v1/projects/{id}/": {
            "get": _operation("projects_retrieve", _json(ITEM)),
            "patch": _operation("projects_partial_update", _json(ITEM), [IF_MATCH]),
            "delete": _operation("projects_destroy"),
        },
        "/api/v1/projects/{id}/archive/": {
            "post": _operation("projects_archive_create", _json(ITEM), [IF_MATCH]),
        },
        "/api/v1/projects/{project_id}/members/": {
            "get": _operation(
                "projects_members_list", _json({"type": "array", "items": {"$ref": "#/x/Member"}})
            ),
            "post": _operation(
                "projects_members_create",
                _json({"type": "object", "properties": {"user": {"type": "integer"}}}, "201"),
            ),
        },
        "/api/v1/projects/{id}/checklist/": {
            "get": _operation(
                "projects_checklist",
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "version": {"type": "integer"},
                            "items": {"type": "array", "items": ITEM},
                        },
                    }
                ),
            ),
        },
        "/api/v1/projects/{id}/checklist/{item_id}/": {
            "patch": _operation("projects_checklist_partial_update", _json(ITEM)),
        },
        "/api/v1/projects/{project_id}/members/{user}/": {
            "delete": _operation("projects_members_destroy"),
        },
    },
    "components": {
        "schemas": {
            "Project": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "PaginatedProjectList": {
                "type": "object",
                "properties": {"results": {"type": "array", "items": ITEM}},
            },
            "Member": {"type": "object", "properties": {"user": {"type": "integer"}}},
        }
    },
}


@pytest.fixture
def linked():
    return operation_links(copy.deepcopy(SCHEMA), None, None, True)["paths"]


def test_a_create_links_to_its_items_operations_with_the_new_id_and_etag(linked):
    links = linked["/api/v1/projects/"]["post"]["responses"]["201"]["links"]
    assert links["ProjectsRetrieve"] == {
        "operationId": "projects_retrieve",
        "parameters": {"id": "$response.body#/id"},
    }
    assert links["ProjectsPartialUpdate"]["parameters"] == {
        "id": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    assert links["ProjectsArchiveCreate"]["parameters"]["header.If-Match"]
    assert links["ProjectsDestroy"]["parameters"] == {"id": "$response.body#/id"}
    # The nested collection is reached with the project's id under its own name.
    assert links["ProjectsMembersList"]["parameters"] == {"project_id": "$response.body#/id"}
    assert "ProjectsMembersDestroy" not in links  # needs a member too


def test_a_list_links_to_its_first_rows_item(linked):
    links = linked["/api/v1/projects/"]["get"]["responses"]["200"]["links"]
    assert links["ProjectsRetrieve"]["parameters"] == {"id": "$response.body#/results/0/id"}
    # A list gives no ETag to send.
    assert links["ProjectsPartialUpdate"]["parameters"] == {"id": "$response.body#/results/0/id"}


def test_a_list_inside_an_object_links_from_its_array(linked):
    links = linked["/api/v1/projects/{id}/checklist/"]["get"]["responses"]["200"]["links"]
    assert links["ProjectsChecklistPartialUpdate"]["parameters"] == {
        "item_id": "$response.body#/items/0/id",
        "id": "$request.path.id",
    }


def test_nested_links_keep_the_parents_parameters_and_name_the_field(linked):
    create = linked["/api/v1/projects/{project_id}/members/"]["post"]["responses"]["201"]
    assert create["links"]["ProjectsMembersDestroy"]["parameters"] == {
        "user": "$response.body#/user",
        "project_id": "$request.path.project_id",
    }
    listing = linked["/api/v1/projects/{project_id}/members/"]["get"]["responses"]["200"]
    # The rows' schema is unknown ($ref outside components/schemas): no link guessed.
    assert "links" not in listing


def test_operations_without_an_id_in_their_answer_get_no_links(linked):
    assert "links" not in linked["/api/v1/projects/{id}/"]["get"]["responses"]["200"]
    assert "links" not in linked["/api/v1/projects/{id}/"]["delete"]["responses"]["204"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/roles/1.5/", "/api/v1/nothing/", "/api/v1/roles/1/nothing/", "/api/v1/v1/"]
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_path_that_names_nothing_is_a_404_problem(api, member, path, method):
    response = getattr(bearer(api, token_for(member)), method)(path)
    assert response.status_code == 404, response.content
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found" and response.json()["instance"] == path


@pytest.mark.django_db
def test_a_path_that_names_nothing_is_a_404_problem_without_credentials_too(api):
    """The paths are public (the schema lists them): nothing to hide behind a 401."""
    response = api.get("/api/v1/nothing/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM


def test_the_schema_generates_without_warnings(tmp_path):
    """Two serializers of one name (say `Person` in two apps) would share one
    component, and one of them would be documented wrongly: drf-spectacular warns."""
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.1.0")


@pytest.mark.django_db
def test_there_is_no_redoc_page(client):
    """Redoc styles its page with inline <style> elements, which the site's CSP
    refuses (a blank page): /api/docs/ (Swagger UI) is the interactive documentation."""
    assert client.get("/api/redoc/").status_code == 404
