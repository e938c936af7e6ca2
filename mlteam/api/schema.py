"""The OpenAPI schema's shared parts: every operation documents its refusals as
problem details (problems.py), so that clients (and schemathesis) know them; and
the two ways to authenticate (registered by importing this module: mlteam/api/urls.py)."""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM = "Problem"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "pointer": {"type": "string"},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["field", "pointer", "detail", "code"],
            },
        },
        "current": {"description": "The resource as it is now (412 only)."},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
_REASONS = {
    "400": "Invalid input (see errors).",
    "401": "Not signed in, or the token is unknown, revoked or expired.",
    "403": "Not allowed (or a read-only token used to write).",
    "404": "Not found, or not visible to the caller (also an object a write names).",
    "406": "The Accept header asks for something other than JSON.",
    "412": "Stale: the If-Match version is not the current one (see current).",
    "415": "The body is not JSON.",
    "429": "Too many requests: see Retry-After.",
}
_WRITES = {"post", "put", "patch", "delete"}


def problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the problem responses."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[PROBLEM] = PROBLEM_SCHEMA
    reference = {"$ref": f"#/components/schemas/{PROBLEM}"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["400", "401", "403", "406", "429"]
            # An item, or a write whose body names an object (the project to plan in):
            # what the caller may not see is not found.
            if "{" in path or method in _WRITES:
                codes.append("404")
            if method in _WRITES:
                codes += ["412", "415"] if method != "delete" else ["412"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _REASONS[code],
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "mlteam.api.authentication.TokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token from Settings: `Authorization: Bearer mlt_…`.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "mlteam.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser's session; writes also need the CSRF token.",
        }


# OpenAPI links: what a client (and schemathesis' stateful phase) may call next
# with an id it was just given. drf-spectacular does not emit them, so they are
# derived here from the paths alone, for every resource whatever app it comes from:
# an operation at `C` (a collection: `/api/v1/projects/` or
# `/api/v1/projects/{project_id}/members/`) leads to every operation under
# `C{param}/` (the item, its sub-resources and actions), taking `param` from
# - a create (POST at C): its 201 body (`id`, or the field named like the parameter);
# - a list (GET at C): the first row of its 200 body (the array, a page's `results`,
#   or an object's one array such as a checklist's `items`);
# and the parameters of C itself from the request that was made. A link to a write
# that declares `If-Match` passes it the ETag of the create's response.
def _resolve(result: dict, schema: dict | None) -> dict:
    """Follow `$ref`s into components/schemas (nothing else is referenced here)."""
    prefix = "#/components/schemas/"
    for _depth in range(10):
        if not isinstance(schema, dict) or "$ref" not in schema:
            break
        reference = schema["$ref"]
        name = reference[len(prefix) :] if reference.startswith(prefix) else None
        schema = result.get("components", {}).get("schemas", {}).get(name)
    return schema if isinstance(schema, dict) and "$ref" not in schema else {}


def _json_schema(result: dict, operation: dict, code: str) -> dict:
    content = operation.get("responses", {}).get(code, {}).get("content", {})
    return _resolve(result, content.get("application/json", {}).get("schema"))


def _row_pointer(result: dict, operation: dict, field_for) -> str | None:
    """Where a list's 200 body keeps its first row's field: `/0/…` for an array,
    `/results/0/…` for a page, `/items/0/…` for an object with one array of rows."""
    body = _json_schema(result, operation, "200")
    if body.get("type") == "array":
        rows, prefix = body, ""
    else:
        properties = body.get("properties", {})
        arrays = {
            name: schema
            for name in properties
            if (schema := _resolve(result, properties[name])).get("type") == "array"
        }
        name = "results" if "results" in arrays else next(iter(arrays), None)
        if name is None or (len(arrays) > 1 and name != "results"):
            return None  # not a list, or one whose rows are ambiguous
        rows, prefix = arrays[name], f"/{name}"
    field = field_for(_resolve(result, rows.get("items")))
    return f"{prefix}/0/{field}" if field else None


def _declares_if_match(operation: dict) -> bool:
    return any(
        parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match"
        for parameter in operation.get("parameters", [])
    )


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"\{([^}/]+)\}", path)


def operation_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: add OpenAPI links (see above)."""
    paths = result.get("paths", {})
    # collection path -> parameter -> [(path, method, operation)] reachable from it
    targets: dict[str, dict[str, list[tuple[str, str, dict]]]] = {}
    for path, operations in paths.items():
        # Every `{param}` of the path opens the operations under it to its collection.
        for param in _path_parameters(path):
            head = path.split("{" + param + "}", 1)[0]
            for method, operation in operations.items():
                if method in {"get", "put", "patch", "delete", "post"}:
                    targets.setdefault(head, {}).setdefault(param, []).append(
                        (path, method, operation)
                    )
    for collection, by_param in targets.items():
        operations = paths.get(collection, {})
        parents = _path_parameters(collection)
        for param, reachable in by_param.items():

            def field_for(row: dict, param: str = param) -> str | None:
                properties = row.get("properties", {})
                return param if param in properties else ("id" if "id" in properties else None)

            sources = []
            create = operations.get("post")
            if create is not None and "201" in create.get("responses", {}):
                field = field_for(_json_schema(result, create, "201"))
                if field:
                    sources.append((create, "201", f"$response.body#/{field}", True))
            listing = operations.get("get")
            if listing is not None:
                pointer = _row_pointer(result, listing, field_for)
                if pointer:
                    sources.append((listing, "200", f"$response.body#{pointer}", False))
            for source, code, value, gives_etag in sources:
                links = source["responses"][code].setdefault("links", {})
                for path, method, target in reachable:
                    wanted = set(_path_parameters(path))
                    if not wanted <= {param, *parents}:
                        continue  # the target needs more than this response gives
                    parameters = {param: value}
                    parameters.update({name: f"$request.path.{name}" for name in parents})
                    if gives_etag and method != "get" and _declares_if_match(target):
                        parameters["header.If-Match"] = "$response.header.ETag"
                    operation_id = target.get("operationId")
                    if operation_id:
                        links.setdefault(
                            _link_name(operation_id),
                            {"operationId": operation_id, "parameters": parameters},
                        )
    return result


def _link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))
