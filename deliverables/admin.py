from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .forms import ReminderPreferenceForm
from .models import (
    WEEKDAYS,
    ChecklistItem,
    ChecklistItemTemplate,
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
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

    @admin.display(description=_("deliverable"), ordering="type__name")
    def name(self, obj: Deliverable) -> str:
        return obj.label


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
        return False


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
