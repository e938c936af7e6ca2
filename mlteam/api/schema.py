"""The OpenAPI schema's shared parts: every operation documents its refusals as
problem details (problems.py), so that clients (and schemathesis) know them; and
the two ways to authenticate (registered by importing this module: mlteam/api/urls.py)."""

from __future__ import annotations

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
    "404": "Not found, or not visible to the caller.",
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
            if "{" in path:
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
