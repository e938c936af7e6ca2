"""Optimistic concurrency: every editable record carries a `version` that each
save moves on, and every form carries the version it was drawn from.

`claim_version` is the one conditional UPDATE that decides which of two saves
drawn from the same version wins: the other gets `ValidationError(code="stale")`
and nothing of it is saved. Services call it first, inside their transaction.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone


def claim_version(
    instance: models.Model,
    version: int | None,
    *,
    message,
    rows: models.QuerySet | None = None,
    field: str = "version",
    also: dict | None = None,
) -> None:
    """Move `instance`'s version on if it still is `version` (any version when None).

    `field` names the counter when a record keeps more than one (a review's
    `evaluation_version` moves with the manager's drafts only). `also`: other
    columns to write in the same UPDATE (values or expressions).

    `rows` narrows what may be claimed (for example "of an active project"); it
    must be a plain condition on the instance's own table, not a join, so that
    PostgreSQL re-checks the version of a row updated meanwhile. Raises
    ValidationError(message, code="stale") when the row moved on (or is outside
    `rows`); on success `instance.<field>` is the new version (and `updated_at`,
    where the model has one, what was written).
    """
    model = type(instance)
    rows = (rows if rows is not None else model._default_manager.all()).filter(pk=instance.pk)
    if version is not None:
        rows = rows.filter(**{field: version})
    changes = {**(also or {}), field: F(field) + 1}
    if any(column.name == "updated_at" for column in model._meta.concrete_fields):
        changes["updated_at"] = timezone.now()
    if rows.update(**changes) != 1:
        raise ValidationError(message, code="stale")
    setattr(
        instance, field, model._default_manager.values_list(field, flat=True).get(pk=instance.pk)
    )
    if "updated_at" in changes:
        instance.updated_at = changes["updated_at"]
