"""API tokens in the Django admin: listed and searched by person, revoked (one or
many) through `tokens_revoke`; never added or edited here, and the hash is not shown."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope", "created", "expiry", "last_used_at", "prefix"]
    list_filter = ["scope", ("expiry", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email", "name"]
    list_select_related = ["user"]
    date_hierarchy = "created"
    fields = ["user", "name", "scope", "prefix", "created", "expiry", "last_used_at"]
    readonly_fields = fields

    @admin.display(description=_("prefix"), ordering="token_key")
    def prefix(self, obj: ApiToken) -> str:
        return f"{obj.token_key}…"

    def has_add_permission(self, request) -> bool:
        return False  # a person creates their own, in Settings, and sees the secret once

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: ApiToken) -> None:
        services.token_revoke(token=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        services.tokens_revoke(tokens=queryset.select_related("user"), actor=request.user)
