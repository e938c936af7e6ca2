"""Admins see who has calendar feeds and turn them off (never their secrets,
which are not kept). Addresses are issued by their owners on the settings page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import CalendarFeed


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["person", "project", "created_at"]
    list_select_related = ["person", "project"]
    search_fields = ["person__username", "person__first_name", "person__last_name", "project__name"]
    actions = ["turn_off_selected"]
    fields = ["person", "project", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the action below turns feeds off through the service

    def has_turn_off_permission(self, request) -> bool:
        return request.user.has_perm("calendars.delete_calendarfeed")

    @admin.action(description=_("Turn off the selected feeds"), permissions=["turn_off"])
    def turn_off_selected(self, request, queryset) -> None:
        feeds = list(queryset)
        for feed in feeds:
            services.feed_revoke(feed=feed)
        self.message_user(
            request,
            ngettext("%(count)d feed turned off.", "%(count)d feeds turned off.", len(feeds))
            % {"count": len(feeds)},
            messages.SUCCESS,
        )
