from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mlteam import cache
from mlteam.admin import (
    ReadOnlyInline,
    ServiceAdmin,
    action_confirmation,
    apply_each,
    changed_fields,
    form_fields,
)

from . import services
from .models import Membership, Project, Role, RoleAssignment, TeamChange


class TeamInline(ReadOnlyInline):
    """The team is changed on the project's team page, or through the membership and
    role assignment admins (each row's change link), whose saves go through the team
    services; here it is shown."""

    show_change_link = True


class RoleAssignmentInline(TeamInline):
    model = RoleAssignment
    fields = ["role", "allocation_percent", "assigned_at"]

    def get_queryset(self, request):
        # The change link names each row (str reads the person and the role).
        return super().get_queryset(request).select_related("membership__user", "role")


class MembershipInline(TeamInline):
    model = Membership
    fields = ["user", "joined_at"]

    def get_queryset(self, request):
        # The change link names each row (str reads the person and the project).
        return super().get_queryset(request).select_related("user", "project")


def _team_page_link(project: Project | None) -> str:
    if project is None or project.pk is None:
        return "-"
    return format_html(
        '<a href="{}">{}</a>',
        reverse("roles:project_team", args=[project.pk]),
        _("Change the team on the project's team page, where each change is recorded."),
    )


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    # No list_editable: a list cannot carry each row's version, so roles are
    # changed on their own form, which does.
    list_display = ["name", "slug", "required_by_default", "position"]
    list_filter = ["required_by_default"]
    search_fields = ["name", "summary", "knowledge_and_skills"]
    prepopulated_fields = {"slug": ["name"]}

    def create(self, request, form) -> Role:
        return services.role_create(**form_fields(form, services.ROLE_FIELDS))

    def update(self, request, form, role: Role) -> Role:
        changes = changed_fields(form, services.ROLE_FIELDS)
        if not changes:
            return role
        return services.role_update(role=role, version=form.cleaned_data["version"], **changes)

    def deleted(self) -> None:
        cache.catalogue_changed()


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    """Projects saved through `project_create`/`project_update` (a TeamChange each),
    as in the app. Archiving and restoring are the project page's (they record
    their own change). The handbook's review date belongs to deliverables, whose
    admin extends this one (`after_save`)."""

    list_display = ["name", "status", "start_date", "target_date", "is_archived"]
    list_filter = ["status", ("archived_at", admin.EmptyFieldListFilter), "required_roles"]
    search_fields = ["name", "business_problem"]
    filter_horizontal = ["managers", "required_roles"]
    date_hierarchy = "start_date"
    readonly_fields = ["archived_at", "team"]
    exclude = ["handbook_review_on"]  # deliverables' admin shows it, and saves it
    inlines = [MembershipInline]

    actions = ["archive_selected"]

    @admin.display(boolean=True, description=_("archived"))
    def is_archived(self, obj: Project) -> bool:
        return obj.is_archived

    @admin.display(description=_("team"))
    def team(self, obj: Project) -> str:
        return _team_page_link(obj)

    def get_changeform_initial_data(self, request) -> dict:
        # As in the app: a new project requires the roles required by default.
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("required_roles", Role.objects.filter(required_by_default=True))
        return initial

    def create(self, request, form) -> Project:
        data = form.cleaned_data
        project = services.project_create(
            actor=request.user,
            managers=data["managers"],
            required_roles=data["required_roles"],
            **form_fields(form, services.PROJECT_FIELDS),
        )
        return self.after_save(request, form, project, version=project.version)

    def update(self, request, form, project: Project) -> Project:
        version = form.cleaned_data["version"]
        fields = changed_fields(form, services.PROJECT_FIELDS)
        relations = changed_fields(form, ["managers", "required_roles"])
        if fields or relations:
            project = services.project_update(
                project=project, actor=request.user, version=version, **relations, **fields
            )
            version = project.version
        return self.after_save(request, form, project, version=version)

    def after_save(self, request, form, project: Project, *, version: int) -> Project:
        """What a higher app saves of the same form after the project's own fields,
        `version` being the project's version to check against (the form's when
        nothing was saved yet)."""
        return project

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
class MembershipAdmin(ServiceAdmin):
    """A person on a project, added through `membership_add`. Its form carries the
    project's version, as the team page's forms do."""

    list_display = ["user", "project", "joined_at"]
    list_filter = ["project"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "project__name"]
    autocomplete_fields = ["user", "project"]
    list_select_related = ["user", "project"]
    inlines = [RoleAssignmentInline]
    version_of = "project"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Who and where is what a membership is: another person or project is
        # another membership.
        return ["user", "project", "joined_at", "team"]

    @admin.display(description=_("team"))
    def team(self, obj: Membership) -> str:
        return _team_page_link(obj.project)

    def create(self, request, form) -> Membership:
        return services.membership_add(
            project=form.cleaned_data["project"], user=form.cleaned_data["user"], actor=request.user
        )

    def update(self, request, form, membership: Membership) -> Membership:
        return membership  # nothing of it changes here; its roles have their own admin

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
        apply_each(
            self,
            request,
            queryset.select_related("project", "user"),
            lambda membership: services.membership_remove(
                membership=membership, actor=request.user, version=None
            ),
            lambda count: ngettext("Removed %(count)d person.", "Removed %(count)d people.", count),
        )
        return None


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ServiceAdmin):
    """A role held on a project, assigned through `role_assign` and changed through
    `assignment_update`, with the project's version."""

    list_display = ["person", "role", "project", "allocation_percent", "assigned_at"]
    list_filter = ["role", "membership__project"]
    search_fields = ["membership__user__username", "membership__project__name", "role__name"]
    autocomplete_fields = ["membership", "role"]
    list_select_related = ["membership__user", "membership__project", "role"]
    version_of = "membership.project"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Another role or person is another assignment (unassign, then assign).
        return ["membership", "role", "assigned_at"]

    @admin.display(description=_("person"), ordering="membership__user__username")
    def person(self, obj: RoleAssignment):
        return obj.membership.user

    @admin.display(description=_("project"), ordering="membership__project__name")
    def project(self, obj: RoleAssignment):
        return obj.membership.project

    def fresh(self, obj: RoleAssignment) -> RoleAssignment:
        return RoleAssignment.objects.select_related(
            "membership__project", "membership__user", "role"
        ).get(pk=obj.pk)

    def create(self, request, form) -> RoleAssignment:
        data = form.cleaned_data
        return services.role_assign(
            membership=data["membership"],
            role=data["role"],
            allocation_percent=data["allocation_percent"],
            actor=request.user,
        )

    def update(self, request, form, assignment: RoleAssignment) -> RoleAssignment:
        if "allocation_percent" not in form.changed_data:
            return assignment
        return services.assignment_update(
            assignment=assignment,
            allocation_percent=form.cleaned_data["allocation_percent"],
            actor=request.user,
            version=form.cleaned_data["version"],
        )

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
        apply_each(
            self,
            request,
            queryset.select_related("membership__project", "membership__user"),
            lambda assignment: services.role_unassign(
                assignment=assignment, actor=request.user, version=None
            ),
            lambda count: ngettext(
                "Unassigned %(count)d role.", "Unassigned %(count)d roles.", count
            ),
        )
        return None


@admin.register(TeamChange)
class TeamChangeAdmin(admin.ModelAdmin):
    # An empty value reads as the admin's "-", as the stored text columns did
    # before history kept structured values (a method's "" would show blank).
    @admin.display(description=_("changes"))
    def what_changed(self, obj: TeamChange) -> str:
        return (
            "; ".join(
                f"{field}: {before} → {after}" if before or after else field
                for field, before, after in obj.change_lines()
            )
            or self.get_empty_value_display()
        )

    @admin.display(description=_("detail"))
    def detail(self, obj: TeamChange) -> str:
        return obj.detail or self.get_empty_value_display()

    list_display = [
        "created_at", "project", "actor", "action", "person", "role", "detail", "what_changed"
    ]  # fmt: skip
    list_filter = ["action", "project"]
    search_fields = ["project__name", "actor__username", "person__username", "payload"]
    # The change page (read-only) words the stored values as the project page does.
    fields = ["project", "actor", "action", "person", "role", "detail", "what_changed"]
    readonly_fields = ["detail", "what_changed"]
    list_select_related = ["project", "actor", "person", "role"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history
