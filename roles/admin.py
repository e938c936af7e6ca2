from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mlteam.admin import action_confirmation

from . import services
from .models import Membership, Project, Role, RoleAssignment, TeamChange


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["role"]
    # Unassigning records a team change: the "Unassign selected roles" action does it.
    can_delete = False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    show_change_link = True
    # Taking someone off a team records a team change and releases their work there:
    # the memberships' "Remove selected people from their projects" action does it.
    can_delete = False


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

    actions = ["archive_selected"]

    @admin.display(boolean=True, description=_("archived"))
    def is_archived(self, obj: Project) -> bool:
        return obj.is_archived

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # projects are archived, never deleted: their history stays

    @admin.action(description=_("Archive selected projects"), permissions=["change"])
    def archive_selected(self, request, queryset):
        page = action_confirmation(
            self,
            request,
            queryset,
            title=_("Archive projects"),
            question=_(
                "Archive these projects? They become read-only and leave the active "
                "lists; their teams, deliverables and history stay, and a manager can "
                "restore them."
            ),
            button=_("Archive"),
        )
        if page is not None:
            return page
        archived = 0
        for project in queryset:
            try:
                services.project_archive(project=project, actor=request.user, version=None)
            except ValidationError:  # already archived
                continue
            archived += 1
            self.log_change(request, project, gettext("Archived."))
        skipped = len(queryset) - archived
        message = ngettext(
            "Archived %(count)d project.", "Archived %(count)d projects.", archived
        ) % {"count": archived}
        if skipped:
            message += " " + ngettext(
                "%(count)d was already archived.", "%(count)d were already archived.", skipped
            ) % {"count": skipped}
        self.message_user(request, message, messages.SUCCESS)
        return None


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "joined_at"]
    list_filter = ["project"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "project__name"]
    autocomplete_fields = ["user", "project"]
    list_select_related = ["user", "project"]
    inlines = [RoleAssignmentInline]
    actions = ["remove_selected"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # through "remove_selected", which records the team change

    @admin.action(
        description=_("Remove selected people from their projects"), permissions=["change"]
    )
    def remove_selected(self, request, queryset):
        page = action_confirmation(
            self,
            request,
            queryset,
            title=_("Remove people from projects"),
            question=_(
                "Take these people off these projects? Their roles there are unassigned "
                "and their deliverables there lose their owner; the team's history "
                "records the change."
            ),
            button=_("Remove"),
        )
        if page is not None:
            return page
        removed, refused = 0, []
        for membership in queryset.select_related("project", "user"):
            try:
                services.membership_remove(membership=membership, actor=request.user, version=None)
            except ValidationError as error:  # an archived project
                refused.append(f"{membership}: {' '.join(error.messages)}")
                continue
            removed += 1
        self.message_user(
            request,
            ngettext("Removed %(count)d person.", "Removed %(count)d people.", removed)
            % {"count": removed},
            messages.SUCCESS,
        )
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        return None


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

    actions = ["unassign_selected"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # through "unassign_selected", which records the team change

    @admin.action(description=_("Unassign selected roles"), permissions=["change"])
    def unassign_selected(self, request, queryset):
        page = action_confirmation(
            self,
            request,
            queryset,
            title=_("Unassign roles"),
            question=_("Unassign these roles? The team's history records each change."),
            button=_("Unassign"),
        )
        if page is not None:
            return page
        unassigned, refused = 0, []
        for assignment in queryset.select_related("membership__project", "membership__user"):
            try:
                services.role_unassign(assignment=assignment, actor=request.user, version=None)
            except ValidationError as error:  # an archived project
                refused.append(f"{assignment}: {' '.join(error.messages)}")
                continue
            unassigned += 1
        self.message_user(
            request,
            ngettext("Unassigned %(count)d role.", "Unassigned %(count)d roles.", unassigned)
            % {"count": unassigned},
            messages.SUCCESS,
        )
        for line in refused:
            self.message_user(request, line, messages.ERROR)
        return None


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

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history
