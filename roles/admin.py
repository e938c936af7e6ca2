from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Membership, Project, Role, RoleAssignment, TeamChange


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["role"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    show_change_link = True


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "required_by_default", "position"]
    list_editable = ["required_by_default", "position"]
    list_filter = ["required_by_default"]
    search_fields = ["name", "summary", "knowledge_and_skills"]
    prepopulated_fields = {"slug": ["name"]}

    def get_inlines(self, request, obj):
        from deliverables.admin import DeliverableTypeInline

        return [DeliverableTypeInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "start_date", "target_date", "is_archived"]
    list_filter = ["status", ("archived_at", admin.EmptyFieldListFilter), "required_roles"]
    search_fields = ["name", "business_problem"]
    filter_horizontal = ["managers", "required_roles"]
    date_hierarchy = "start_date"
    inlines = [MembershipInline]

    @admin.display(boolean=True, description=_("archived"))
    def is_archived(self, obj: Project) -> bool:
        return obj.is_archived


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "joined_at"]
    list_filter = ["project"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "project__name"]
    autocomplete_fields = ["user", "project"]
    list_select_related = ["user", "project"]
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["person", "role", "project", "allocation_percent", "assigned_at"]
    list_filter = ["role", "membership__project"]
    search_fields = ["membership__user__username", "membership__project__name", "role__name"]
    autocomplete_fields = ["membership", "role"]
    list_select_related = ["membership__user", "membership__project", "role"]

    @admin.display(description=_("person"), ordering="membership__user__username")
    def person(self, obj: RoleAssignment):
        return obj.membership.user

    @admin.display(description=_("project"), ordering="membership__project__name")
    def project(self, obj: RoleAssignment):
        return obj.membership.project


@admin.register(TeamChange)
class TeamChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "actor", "action", "person", "role", "detail"]
    list_filter = ["action", "project"]
    search_fields = ["project__name", "actor__username", "person__username", "detail"]
    list_select_related = ["project", "actor", "person", "role"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
