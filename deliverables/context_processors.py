"""Context for the Django admin's pages: the banner about reminder emails that are
not getting through (templates/admin/base_site.html)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from .selectors import digest_trouble


def digest_delivery(request: HttpRequest) -> dict:
    """On admin pages only, for those who may see digests: `digest_trouble` while
    digests are failing or were given up on in the last day."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.app_name != "admin" or user is None or not user.is_staff:
        return {}
    if not user.has_perm("deliverables.view_digest"):
        return {}
    trouble = digest_trouble(now=timezone.now())
    return {"digest_trouble": trouble} if trouble.alarming else {}
