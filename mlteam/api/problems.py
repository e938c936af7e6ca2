"""Errors as RFC 9457 problem details (`application/problem+json`).

Every refusal has the same shape: `type`, `title`, `status`, `detail`,
`instance` (the path asked for), `code` (a stable word for programs), and for
invalid input `errors`: one entry per problem with the `field` (dotted path, or
null for the whole request), its JSON `pointer`, `detail` and `code`. A
ValidationError raised by a service (Django's) reads the same as a serializer's;
one with code "stale" (mlteam.versions.claim_version) is a 412 (see versions.py).
"""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
STALE = "stale"

# Each status's `title`, in the reader's language (RFC 9457 lets a title follow
# the request's Accept-Language); a status not listed keeps HTTP's own phrase.
TITLES = {
    400: _("Bad Request"),
    401: _("Unauthorized"),
    403: _("Forbidden"),
    404: _("Not Found"),
    405: _("Method Not Allowed"),
    406: _("Not Acceptable"),
    412: _("Precondition Failed"),
    415: _("Unsupported Media Type"),
    429: _("Too Many Requests"),
    500: _("Internal Server Error"),
}
INVALID_DETAIL = _("The request has invalid values: see errors.")
REFUSED_DETAIL = _("The request was refused: see errors.")
# A stale write refused outside a resource that can show its current state.
STALE_DETAIL = _(
    "This resource has changed since the version you sent in If-Match, so nothing "
    "was changed. Read it again and send the change on top of it."
)


def _field_errors(detail, path: tuple[str, ...] = ()) -> list[dict]:
    """Flatten DRF's nested error detail (dicts of lists of ErrorDetail)."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            key = str(key)
            inner = path if key in {NON_FIELD_ERRORS, "non_field_errors"} else (*path, key)
            errors += _field_errors(value, inner)
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                errors += _field_errors(value, (*path, str(index)))
            else:
                errors += _field_errors(value, path)
        return errors
    return [
        {
            "field": ".".join(path) or None,
            "pointer": "#/" + "/".join(path) if path else "#",
            "detail": str(detail),
            "code": getattr(detail, "code", None) or "invalid",
        }
    ]


def django_errors(exc: DjangoValidationError) -> dict | list:
    """A Django ValidationError as DRF's error detail (field names kept)."""
    if hasattr(exc, "error_dict"):
        return {
            field: [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors
                for message in error.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    return [
        exceptions.ErrorDetail(message, code=error.code or "invalid")
        for error in exc.error_list
        for message in error.messages
    ]


def is_stale(exc) -> bool:
    """A service refused a write drawn from an old version."""
    if not isinstance(exc, DjangoValidationError):
        return False
    # A ValidationError keyed by field (a model's full_clean) has no error_list.
    errors = exc.error_list if hasattr(exc, "error_list") else exc.error_dict.values()
    return any(
        error.code == STALE
        for error in (
            item for entry in errors for item in (entry if isinstance(entry, list) else [entry])
        )
    )


def problem(
    request, status_code: int, detail: str, *, code: str, errors=None, headers=None, **extra
) -> Response:
    body = {
        "type": "about:blank",
        "title": str(TITLES.get(status_code, HTTPStatus(status_code).phrase)),
        "status": status_code,
        "detail": detail,
        "instance": request.path if request is not None else None,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _kept_headers(response) -> dict:
    """What DRF's handler adds that the problem keeps: the scheme to authenticate
    with (401) and when to try again (429)."""
    return {
        name: value
        for name, value in response.items()
        if name.lower() in {"www-authenticate", "retry-after"}
    }


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        if is_stale(exc):
            return problem(
                request,
                status.HTTP_412_PRECONDITION_FAILED,
                str(STALE_DETAIL),
                code=STALE,
            )
        exc = exceptions.ValidationError(django_errors(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()  # the same words whatever was looked for
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not a refusal: a real fault, logged and answered as a 500
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        detail = (
            errors[0]["detail"]
            if len(errors) == 1 and errors[0]["field"] is None
            else str(INVALID_DETAIL)
        )
        return problem(
            request,
            response.status_code,
            detail,
            code="invalid",
            errors=errors,
            headers=_kept_headers(response),
        )
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    if isinstance(detail, dict | list):
        return problem(
            request,
            response.status_code,
            str(REFUSED_DETAIL),
            code=getattr(exc, "default_code", "error"),
            errors=_field_errors(detail),
            headers=_kept_headers(response),
        )
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    return problem(
        request, response.status_code, str(detail), code=code, headers=_kept_headers(response)
    )
