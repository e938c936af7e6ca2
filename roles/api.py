"""The API's resources about people on projects (mlteam/api/, docs/api.md)."""

from __future__ import annotations

from rest_framework import serializers

from mlteam.api.views import ReadOnlyViewSet

from .models import Role


class RoleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    summary = serializers.CharField(source="display_summary", read_only=True)
    knowledge_and_skills = serializers.CharField(
        source="display_knowledge_and_skills", read_only=True
    )

    class Meta:
        model = Role
        fields = ["id", "slug", "name", "summary", "knowledge_and_skills", "required_by_default"]
        read_only_fields = fields


class RoleViewSet(ReadOnlyViewSet):
    """The role catalogue (admins edit it in the Django admin)."""

    serializer_class = RoleSerializer
    queryset = Role.objects.order_by("position", "name", "pk")
    pagination_class = None  # a handful of roles


# (URL prefix, viewset, basename): registered under /api/v1/ by mlteam/api/urls.py.
ROUTES = [("roles", RoleViewSet, "role")]
