"""Issuing and revoking calendar feed addresses (every path goes through here)."""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction

from roles.models import Project

from .models import CalendarFeed, secret_digest


@transaction.atomic
def feed_issue(*, person, project: Project | None = None) -> tuple[CalendarFeed, str]:
    """A new secret address for `person`'s feed (of `project`, or of their own
    work): created, or replacing the old address, which stops working at once.
    Returns the feed and the secret, which is not kept."""
    if not person.is_active:
        raise PermissionDenied
    if (
        project is not None
        and not Project.objects.visible_to(person).filter(pk=project.pk).exists()
    ):
        raise PermissionDenied
    secret = secrets.token_urlsafe(32)
    feed, _created = CalendarFeed.objects.update_or_create(
        person=person, project=project, defaults={"digest": secret_digest(secret)}
    )
    return feed, secret


@transaction.atomic
def feed_revoke(*, feed: CalendarFeed) -> None:
    """The feed's address stops working; calendars subscribed to it get nothing more."""
    CalendarFeed.objects.filter(pk=feed.pk).delete()


def people_feeds_revoke(sender=None, *, user_ids, **kwargs) -> int:
    """Every feed address of these people stops working: their password changed or
    their account was switched off (`mlteam.accounts.services.credentials_withdrawn`),
    and an address must not outlive the access it was issued with."""
    deleted, _by_model = CalendarFeed.objects.filter(person__in=list(user_ids)).delete()
    return deleted
