"""Optimistic concurrency over HTTP: a resource's `version` is its ETag; a write
may send `If-Match` with the version it was read at. The services decide (the one
version check, mlteam.versions.claim_version): a write drawn from an old version
is refused with 412 and the resource as it is now (`current`, and its ETag)."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS

from .problems import STALE, is_stale, problem

_ETAG = re.compile(r'^\s*(W/)?"(\d{1,18})"\s*$')
# A stale write's words in the API: the web form's ("check the latest version and
# save again") speak of a page the caller does not have.
STALE_DETAIL = _(
    "This resource has changed since the version you sent in If-Match, so nothing "
    "was changed. The current representation is in `current` (its version in the ETag)."
)


class WeakETag(exceptions.APIException):
    """If-Match compares ETags strongly (RFC 9110 13.1.1): a weak one never matches."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "weak_etag"
    default_detail = _(
        'If-Match needs the ETag as this API sends it, such as "3": a weak ETag '
        "(W/...) never matches, so nothing was changed."
    )


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request) -> int | None:
    """The version a write was drawn from: If-Match's one ETag (None when absent
    or `*`: any version). A weak ETag is a 412 (it never matches); anything else
    is a 400, not a guess."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        raise exceptions.ParseError(
            gettext('If-Match must be one ETag as this API sends it, such as "3".')
        )
    if match.group(1):
        raise WeakETag()
    return int(match.group(2))


class VersionedMixin:
    """For a viewset whose objects carry `version`: ETag on what it answers with
    one object, and 412 with the current representation when a service finds the
    write stale. `current_representation()` says what the object is now."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            if_match(request)  # a malformed or weak If-Match is refused before anything

    def current_representation(self):
        instance = self.get_object()
        return self.get_serializer(instance).data

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            status.is_success(response.status_code)
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
        ):
            response["ETag"] = etag(data["version"])
        return response

    def handle_exception(self, exc):
        if not is_stale(exc):
            return super().handle_exception(exc)
        current = self.current_representation()
        response = problem(
            self.request,
            status.HTTP_412_PRECONDITION_FAILED,
            str(STALE_DETAIL),
            code=STALE,
            current=current,
        )
        if isinstance(current, dict) and isinstance(current.get("version"), int):
            response["ETag"] = etag(current["version"])
        return response
