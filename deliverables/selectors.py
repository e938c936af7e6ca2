"""Reads for pages about deliverables."""

from __future__ import annotations

from datetime import date

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet

from .models import Deliverable


def deliverable_list_open_for_owner(*, user, today: date) -> QuerySet[Deliverable]:
    """The open deliverables `user` owns, earliest due first (undated last), with `overdue`."""
    if not user.is_authenticated:
        return Deliverable.objects.none()
    return (
        Deliverable.objects.open()
        .filter(owner=user, project__archived_at__isnull=True)
        .select_related("project", "type__role")
        .annotate(overdue=ExpressionWrapper(Q(due_date__lt=today), output_field=BooleanField()))
        .order_by(F("due_date").asc(nulls_last=True), "pk")
    )
