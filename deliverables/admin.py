from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mlteam import cache
from mlteam.admin import (
    ReadOnlyInline,
    ServiceAdmin,
    VersionedAdminForm,
    changed_fields,
    form_fields,
)
from mlteam.forms import VersionField
from roles import admin as roles_admin
from roles.models import Project, Role

from . import services, workflow
from .forms import CancelForm, ReminderPreferenceForm
from .models import (
    WEEKDAYS,
    ChecklistItem,
    ChecklistItemTemplate,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    DeliverableStatus,
    DeliverableType,
    Digest,
    Reminder,
    ReminderPreference,
)
from .practices import services as practices


class ChecklistItemInline(ReadOnlyInline):
    model = ChecklistItem
    fields = ["position", "area", "text", "answer_kind", "required", "checked", "answer", "link"]
    can_delete = False  # an item's answer is part of the deliverable's record


class DeliverableLinkInline(ReadOnlyInline):
    model = DeliverableLink
    fields = ["kind", "url", "label", "added_by", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("added_by")


class DeliverableCommentInline(ReadOnlyInline):
    model = DeliverableComment
    fields = ["author", "body", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class ChecklistTemplateFormSet(BaseInlineFormSet):
    """A type's checklist rows, saved through the catalogue services. Each change
    claims the type's version: the one the type's form was drawn from (checked by
    the form, and moved on by the type's own save just before)."""

    def _fields(self, form) -> dict:
        return form_fields(form, services.CHECKLIST_TEMPLATE_FIELDS)

    def save_new(self, form, commit=True):
        return services.checklist_template_add(
            deliverable_type=self.instance, version=self.instance.version, **self._fields(form)
        )

    def save_existing(self, form, obj, commit=True):
        obj.deliverable_type = self.instance  # so the claim moves the version held here
        return services.checklist_template_update(
            template=obj, version=self.instance.version, **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        obj.deliverable_type = self.instance
        services.checklist_template_remove(template=obj, version=self.instance.version)


class ChecklistItemTemplateInline(admin.TabularInline):
    model = ChecklistItemTemplate
    formset = ChecklistTemplateFormSet
    extra = 1
    fields = ["position", "area", "text", "answer_kind", "required"]


class DeliverableTypeFormSet(BaseInlineFormSet):
    """A role's deliverable types, each saved through the catalogue services with
    the version its row was drawn from."""

    def _fields(self, form) -> dict:
        fields = form_fields(form, services.DELIVERABLE_TYPE_FIELDS)
        fields["role"] = self.instance
        return fields

    def save_new(self, form, commit=True):
        return services.deliverable_type_create(**self._fields(form))

    def save_existing(self, form, obj, commit=True):
        return services.deliverable_type_update(
            deliverable_type=obj, version=form.cleaned_data["version"], **self._fields(form)
        )

    def delete_existing(self, obj, commit=True):
        super().delete_existing(obj, commit)
        cache.catalogue_changed()


class DeliverableTypeInline(admin.TabularInline):
    model = DeliverableType
    form = VersionedAdminForm
    formset = DeliverableTypeFormSet
    extra = 0
    fields = ["name", "slug", "default_due_offset_days", "position", "version"]
    prepopulated_fields = {"slug": ["name"]}
    show_change_link = True


# roles' admin knows nothing of deliverables (roles never imports it): the role
# and project admins are extended here with what deliverables adds to them.
admin.site.unregister(Role)
admin.site.unregister(Project)


@admin.register(Role)
class RoleAdmin(roles_admin.RoleAdmin):
    """A role, with the deliverable types it is responsible for."""

    inlines = [DeliverableTypeInline]


@admin.register(Project)
class ProjectAdmin(roles_admin.ProjectAdmin):
    """A project, with the date by which its team reviews the handbook, saved
    through `handbook_review_date_set` after the project's own fields."""

    exclude = []

    def after_save(self, request, form, project: Project, *, version: int) -> Project:
        if "handbook_review_on" in form.changed_data:
            practices.handbook_review_date_set(
                project=project,
                actor=request.user,
                review_on=form.cleaned_data["handbook_review_on"],
                version=version,
            )
        return project


@admin.register(DeliverableType)
class DeliverableTypeAdmin(ServiceAdmin):
    list_display = ["name", "role", "default_due_offset_days", "position", "proposed"]
    list_filter = ["role", "proposed"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["role"]
    inlines = [ChecklistItemTemplateInline]

    def create(self, request, form) -> DeliverableType:
        return services.deliverable_type_create(
            **form_fields(form, services.DELIVERABLE_TYPE_FIELDS)
        )

    def update(self, request, form, deliverable_type: DeliverableType) -> DeliverableType:
        changes = changed_fields(form, services.DELIVERABLE_TYPE_FIELDS)
        if not changes:  # the checklist rows alone may have changed: the formset claims
            return deliverable_type
        return services.deliverable_type_update(
            deliverable_type=deliverable_type, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        cache.catalogue_changed()


@admin.register(ChecklistItemTemplate)
class ChecklistItemTemplateAdmin(ServiceAdmin):
    """One checklist item of a type: its form carries the type's version."""

    list_display = ["text", "deliverable_type", "area", "answer_kind", "required", "position"]
    list_filter = ["deliverable_type", "answer_kind", "required", "area"]
    search_fields = ["text", "area"]
    list_select_related = ["deliverable_type"]
    version_of = "deliverable_type"

    def get_readonly_fields(self, request, obj=None):
        # An item stays on its type (its version is the type's).
        return ["deliverable_type"] if obj is not None else []

    def create(self, request, form) -> ChecklistItemTemplate:
        return services.checklist_template_add(
            deliverable_type=form.cleaned_data["deliverable_type"],
            version=None,
            **form_fields(form, services.CHECKLIST_TEMPLATE_FIELDS),
        )

    def update(self, request, form, template: ChecklistItemTemplate) -> ChecklistItemTemplate:
        changes = changed_fields(form, services.CHECKLIST_TEMPLATE_FIELDS)
        if not changes:
            return template
        return services.checklist_template_update(
            template=template, version=form.cleaned_data["version"], **changes
        )

    def deleted(self) -> None:
        cache.catalogue_changed()


class DeliverableAdminForm(VersionedAdminForm):
    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None and "status" not in self.changed_data:
            for name in ("blocked_reason", "cancelled_reason", "done_override_reason"):
                if name in self.changed_data:
                    self.add_error(
                        name,
                        _(
                            "A reason is recorded with a status move, as on the "
                            "deliverable's page: change the status too, or leave the "
                            "reason as it was."
                        ),
                    )
        return cleaned_data


class CancelSelectedForm(CancelForm):
    """The reason, and the version of each selected deliverable as the confirmation
    page drew it: one changed meanwhile is refused, not cancelled blindly."""

    def __init__(self, *args, deliverables, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["version"]
        for deliverable in deliverables:
            self.fields[f"version_{deliverable.pk}"] = VersionField(initial=deliverable.version)

    def version_of(self, deliverable: Deliverable) -> int:
        return self.cleaned_data[f"version_{deliverable.pk}"]

    def hidden_versions(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("version_")]


@admin.register(Deliverable)
class DeliverableAdmin(ServiceAdmin):
    """Deliverables saved through the same services as their page: a status change
    follows the workflow (`deliverable_transition`, with the reasons typed here),
    the other fields `deliverable_update`; both record the history."""

    form = DeliverableAdminForm
    list_display = ["name", "project", "type", "owner", "status", "due_date"]
    list_filter = ["status", "type__role", "type", "project"]
    search_fields = ["title", "type__name", "project__name", "owner__username"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["project", "owner"]
    list_select_related = ["project", "type", "owner"]
    readonly_fields = ["created_at", "updated_at", "in_the_app"]
    inlines = [ChecklistItemInline, DeliverableLinkInline, DeliverableCommentInline]
    actions = ["cancel_selected"]

    @admin.display(description=_("deliverable"), ordering="type__name")
    def name(self, obj: Deliverable) -> str:
        return obj.label

    @admin.display(description=_("checklist, links and comments"))
    def in_the_app(self, obj: Deliverable) -> str:
        if obj.pk is None:
            return _("Once saved, the deliverable's page takes its checklist, links and comments.")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("deliverables:detail", args=[obj.pk]),
            _("Change them on the deliverable's page, where each change is recorded."),
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            # A new deliverable is never done (deliverable_create), so needs no override.
            return [*fields, "done_override_reason"]
        return [*fields, "project"]  # a deliverable stays on its project

    def fresh(self, obj: Deliverable) -> Deliverable:
        return Deliverable.objects.select_related("project", "type", "owner").get(pk=obj.pk)

    def create(self, request, form) -> Deliverable:
        data = form.cleaned_data
        return services.deliverable_create(
            project=data["project"],
            type=data["type"],
            title=data["title"],
            description=data["description"],
            owner=data["owner"],
            due_date=data["due_date"],
            status=data["status"],
            blocked_reason=data["blocked_reason"],
            actor=request.user,
        )

    def update(self, request, form, deliverable: Deliverable) -> Deliverable:
        """The status move first (so a reopened deliverable may change its type),
        then the other fields, each claiming the version the previous step left."""
        data, changed = form.cleaned_data, set(form.changed_data)
        version = data["version"]
        if "status" in changed:
            deliverable = services.deliverable_transition(
                deliverable=deliverable,
                actor=request.user,
                to_status=data["status"],
                version=version,
                reason=data["cancelled_reason"]
                if data["status"] == DeliverableStatus.CANCELLED
                else data["blocked_reason"],
                override_reason=data["done_override_reason"],
            )
            version = deliverable.version
        if changed & {"title", "description", "owner", "due_date", "type"}:
            deliverable = services.deliverable_update(
                deliverable=deliverable,
                actor=request.user,
                version=version,
                title=data["title"],
                description=data["description"],
                owner=data["owner"],
                due_date=data["due_date"],
                type=data["type"],
            )
        return deliverable

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deliverables are never deleted: their history stays

    @admin.action(description=_("Cancel selected deliverables"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        """Cancel through the app's workflow (`deliverable_transition`): the same rules
        (managers of the project, open work only, a reason) and the same history.

        1. The first request draws a confirmation page asking why, carrying each
           deliverable's version.
        2. The confirmed request cancels each one in its own transaction, and reports
           those the workflow refused (done, already cancelled, changed meanwhile,
           archived project) by name with the reason.
        """
        deliverables = list(queryset.select_related("project", "type").order_by("pk"))
        confirmed = request.POST.get("post") == "yes"
        form = CancelSelectedForm(request.POST if confirmed else None, deliverables=deliverables)
        if confirmed and form.is_valid():
            cancelled = left = 0
            for deliverable in deliverables:
                if not workflow.is_allowed(deliverable.status, DeliverableStatus.CANCELLED):
                    left += 1  # done or already cancelled: left as it is, as the page says
                    continue
                try:
                    services.deliverable_transition(
                        deliverable=deliverable,
                        actor=request.user,
                        to_status=DeliverableStatus.CANCELLED,
                        version=form.version_of(deliverable),
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as error:
                    # The service's stale message speaks to a form offered again; here
                    # nothing is, so say what happened and what to do instead.
                    reason = (
                        gettext(
                            "someone else changed it after you selected it. Open it to see "
                            "what changed, and cancel it again if it should still be cancelled."
                        )
                        if getattr(error, "code", None) == "stale"
                        else " ".join(error.messages)
                    )
                    self.message_user(
                        request,
                        gettext("%(deliverable)s was not cancelled: %(reason)s")
                        % {"deliverable": deliverable.label, "reason": reason},
                        messages.ERROR,
                    )
                else:
                    cancelled += 1
            if cancelled:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s deliverable cancelled.",
                        "%(count)s deliverables cancelled.",
                        cancelled,
                    )
                    % {"count": cancelled},
                    messages.SUCCESS,
                )
            if left:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)s deliverable was done or already cancelled and is left as it is.",
                        "%(count)s deliverables were done or already cancelled and are left as "
                        "they are.",
                        left,
                    )
                    % {"count": left},
                    messages.INFO,
                )
            return None  # back to the list
        return TemplateResponse(
            request,
            "admin/deliverables/deliverable/cancel_selected.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Cancel selected deliverables"),
                "opts": self.model._meta,
                "deliverables": deliverables,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
            status=422 if confirmed else 200,
        )


@admin.register(DeliverableEvent)
class DeliverableEventAdmin(admin.ModelAdmin):
    # An empty value reads as the admin's "-", as the stored text columns did
    # before history kept structured values (a method's "" would show blank).
    @admin.display(description=_("before"))
    def before(self, obj: DeliverableEvent) -> str:
        return obj.display_before or self.get_empty_value_display()

    @admin.display(description=_("after"))
    def after(self, obj: DeliverableEvent) -> str:
        return obj.display_after or self.get_empty_value_display()

    list_display = ["created_at", "deliverable", "actor", "kind", "before", "after"]
    list_filter = ["kind", "project"]
    search_fields = ["deliverable__title", "actor__username", "payload"]
    # The change page (read-only) words the stored values as the pages do.
    fields = ["deliverable", "project", "actor", "kind", "before", "after"]
    readonly_fields = ["before", "after"]
    list_select_related = ["deliverable__type", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history


class ReminderPreferenceAdminForm(VersionedAdminForm, ReminderPreferenceForm):
    """The settings page's form (day checkboxes, searchable time zone, the same
    checks), plus the person whose preference it is, carrying its version."""

    class Meta(ReminderPreferenceForm.Meta):
        fields = ["user", *ReminderPreferenceForm.Meta.fields]


@admin.register(ReminderPreference)
class ReminderPreferenceAdmin(ServiceAdmin):
    """Saved through `reminder_preference_update`, as the settings page is: only
    what the admin changed, at the version the form was drawn from."""

    form = ReminderPreferenceAdminForm

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj is not None else []  # settings stay with their person

    def create(self, request, form) -> ReminderPreference:
        data = form.cleaned_data
        return services.reminder_preference_update(
            user=data["user"],
            changes=form_fields(form, ReminderPreferenceForm.Meta.fields),
            version=None,
        )

    def update(self, request, form, preference: ReminderPreference) -> ReminderPreference:
        changes = changed_fields(form, ReminderPreferenceForm.Meta.fields)
        if not changes:
            return preference
        return services.reminder_preference_update(
            user=preference.user, changes=changes, version=form.cleaned_data["version"]
        )

    list_display = [
        "user",
        "hour",
        "time_zone",
        "working_days_display",
        "due_soon_days",
        "paused_until",
        "language",
    ]
    list_filter = ["time_zone", "language"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    @admin.display(description=_("working days"), ordering="working_days")
    def working_days_display(self, obj: ReminderPreference) -> str:
        days = obj.working_day_numbers
        return ", ".join(str(label) for number, label in WEEKDAYS if number in days)


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    fields = ["kind", "deliverable", "days"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("deliverable__type")


class DeliveryProblemFilter(admin.SimpleListFilter):
    """The digests the admin banner, /healthz and send_reminders report."""

    title = _("delivery problem")
    parameter_name = "trouble"

    def lookups(self, request, model_admin):
        return [
            ("attention", _("Any (needs attention)")),
            ("failing", _("Failing now")),
            ("undelivered", _("Not delivered (last day)")),
            ("unknown", _("Outcome unknown (last day)")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        return {
            "attention": queryset.needing_attention,
            "failing": queryset.failing,
            "undelivered": queryset.undelivered_recently,
            "unknown": queryset.unknown_recently,
        }.get(self.value(), lambda now: queryset)(now)


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    """Read-only: digests change only by being sent (deliverables.reminders)."""

    list_display = [
        "recipient",
        "local_date",
        "status",
        "attempts",
        "next_attempt_at",
        "failing_since",
        "sent_at",
        "last_error",
    ]
    list_filter = [DeliveryProblemFilter, "status", "local_date"]
    search_fields = ["recipient__username", "recipient__email"]
    list_select_related = ["recipient"]
    date_hierarchy = "local_date"
    fields = [
        "recipient",
        "local_date",
        "status",
        "attempts",
        "next_attempt_at",
        "failing_since",
        "last_error",
        "deliver_by",
        "handed_over_at",
        "unknown_outcomes",
        "sent_with",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [ReminderInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the reminder ledger: deleting it would send again


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The ledger: what was (or is being) sent to whom, about what, for which day."""

    list_display = ["local_date", "kind", "deliverable", "recipient", "days", "digest_status"]
    list_filter = ["kind", "local_date", "digest__status"]
    search_fields = ["deliverable__title", "recipient__username"]
    list_select_related = ["deliverable__type", "recipient", "digest"]
    date_hierarchy = "local_date"

    @admin.display(description=_("digest"))
    def digest_status(self, obj: Reminder) -> str:
        return obj.digest.get_status_display()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # history
