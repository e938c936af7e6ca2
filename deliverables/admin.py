from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mlteam.forms import VersionField

from . import services
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
    Review,
    ReviewCycle,
    ReviewEvent,
    ReviewReminder,
)

# Addresses typed without a scheme are read as https, as on the deliverable page.
URL_AS_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    formfield_overrides = URL_AS_HTTPS
    extra = 0
    fields = ["position", "area", "text", "answer_kind", "required", "checked", "answer", "link"]


class DeliverableLinkInline(admin.TabularInline):
    model = DeliverableLink
    formfield_overrides = URL_AS_HTTPS
    extra = 0
    fields = ["kind", "url", "label", "added_by", "created_at"]
    readonly_fields = ["added_by", "created_at"]


class DeliverableCommentInline(admin.TabularInline):
    model = DeliverableComment
    extra = 0
    fields = ["author", "body", "created_at"]
    readonly_fields = ["author", "created_at"]


class ChecklistItemTemplateInline(admin.TabularInline):
    model = ChecklistItemTemplate
    extra = 1
    fields = ["position", "area", "text", "answer_kind", "required"]


class DeliverableTypeInline(admin.TabularInline):
    model = DeliverableType
    extra = 0
    fields = ["name", "slug", "default_due_offset_days", "position"]
    prepopulated_fields = {"slug": ["name"]}
    show_change_link = True


@admin.register(DeliverableType)
class DeliverableTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "default_due_offset_days", "position"]
    list_filter = ["role"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["role"]
    inlines = [ChecklistItemTemplateInline]


@admin.register(ChecklistItemTemplate)
class ChecklistItemTemplateAdmin(admin.ModelAdmin):
    list_display = ["text", "deliverable_type", "area", "answer_kind", "required", "position"]
    list_filter = ["deliverable_type", "answer_kind", "required", "area"]
    search_fields = ["text", "area"]
    list_select_related = ["deliverable_type"]


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
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "type", "owner", "status", "due_date"]
    list_filter = ["status", "type__role", "type", "project"]
    search_fields = ["title", "type__name", "project__name", "owner__username"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["project", "owner"]
    list_select_related = ["project", "type", "owner"]
    readonly_fields = ["version", "created_at", "updated_at"]
    inlines = [ChecklistItemInline, DeliverableLinkInline, DeliverableCommentInline]
    actions = ["cancel_selected"]

    @admin.display(description=_("deliverable"), ordering="type__name")
    def name(self, obj: Deliverable) -> str:
        return obj.label

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
            cancelled = 0
            for deliverable in deliverables:
                try:
                    services.deliverable_transition(
                        deliverable=deliverable,
                        actor=request.user,
                        to_status=DeliverableStatus.CANCELLED,
                        version=form.version_of(deliverable),
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as error:
                    self.message_user(
                        request,
                        gettext("%(deliverable)s was not cancelled: %(reason)s")
                        % {"deliverable": deliverable.label, "reason": " ".join(error.messages)},
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
    list_display = ["created_at", "deliverable", "actor", "kind", "before", "after"]
    list_filter = ["kind", "project"]
    search_fields = ["deliverable__title", "actor__username", "before", "after"]
    list_select_related = ["deliverable__type", "actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReminderPreferenceAdminForm(ReminderPreferenceForm):
    """The settings page's form (day checkboxes, searchable time zone, the same
    checks), plus the person whose preference it is."""

    class Meta(ReminderPreferenceForm.Meta):
        fields = ["user", *ReminderPreferenceForm.Meta.fields]


@admin.register(ReminderPreference)
class ReminderPreferenceAdmin(admin.ModelAdmin):
    form = ReminderPreferenceAdminForm
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


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = [
        "recipient",
        "local_date",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "local_date"]
    search_fields = ["recipient__username", "recipient__email"]
    list_select_related = ["recipient"]
    date_hierarchy = "local_date"
    readonly_fields = ["recipient", "local_date", "created_at", "sent_at", "attempts", "last_error"]
    inlines = [ReminderInline]


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


# --- review cycles: admins define cycles here; reviews are read-only (private; their
# history must come from the app, where every change is recorded).


@admin.register(ReviewCycle)
class ReviewCycleAdmin(admin.ModelAdmin):
    list_display = ["name", "start_date", "end_date", "expectations_due_days", "created_by"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ReviewEventInline(admin.TabularInline):
    model = ReviewEvent
    extra = 0
    fields = ["created_at", "actor", "kind"]
    readonly_fields = fields
    can_delete = False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["person", "manager", "cycle", "expectations_acknowledged_at",
                    "evaluation_shared_at", "evaluation_acknowledged_at"]  # fmt: skip
    list_filter = ["cycle"]
    search_fields = ["person__username", "manager__username"]
    list_select_related = ["person", "manager", "cycle"]
    inlines = [ReviewEventInline]


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ["local_date", "kind", "cycle", "person", "recipient", "digest"]
    list_filter = ["kind", "local_date", "cycle"]
    list_select_related = ["cycle", "person", "recipient", "digest"]
    date_hierarchy = "local_date"
