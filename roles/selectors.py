"""Reads for pages about roles, projects and teams."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Project, Role, RoleAssignment


def role_catalogue() -> QuerySet[Role]:
    return Role.objects.prefetch_related("deliverable_types")


def project_list_for_user(*, user) -> QuerySet[Project]:
    """Active projects `user` may see, with member and open-deliverable counts."""
    return (
        Project.objects.visible_to(user)
        .active()
        .annotate(
            member_count=Count("memberships", distinct=True),
            open_deliverable_count=Count(
                "deliverables", filter=~Q(deliverables__status="done"), distinct=True
            ),
        )
        .prefetch_related(
            Prefetch(
                "memberships__assignments",
                queryset=RoleAssignment.objects.select_related("role"),
            )
        )
        .order_by("name")
    )
