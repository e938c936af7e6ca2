"""Writes for deliverables."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from roles.models import Project

from .models import Deliverable, DeliverableStatus, DeliverableType


@transaction.atomic
def deliverable_create(
    *,
    project: Project,
    type: DeliverableType,
    title: str,
    owner=None,
    due_date: date | None = None,
    status: str = DeliverableStatus.NOT_STARTED,
    blocked_reason: str = "",
) -> Deliverable:
    deliverable = Deliverable(
        project=project,
        type=type,
        title=title,
        owner=owner,
        due_date=due_date,
        status=status,
        blocked_reason=blocked_reason,
    )
    deliverable.full_clean()
    deliverable.save()
    return deliverable
