"""Review cycles in the Django admin. Admins define cycles here, through the
same services as the app; reviews and their history are read-only (private;
every change must come from the app, where it is recorded)."""

from django.contrib import admin

from mlteam.admin import ServiceAdmin

from . import services
from .models import Review, ReviewCycle, ReviewEvent, ReviewReminder


@admin.register(ReviewCycle)
class ReviewCycleAdmin(ServiceAdmin):
    list_display = ["name", "start_date", "end_date", "expectations_due_days", "created_by"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    list_select_related = ["created_by"]
    readonly_fields = ["created_by", "created_at"]

    def create(self, request, form) -> ReviewCycle:
        return services.cycle_create(actor=request.user, **self._values(form))

    def update(self, request, form, cycle: ReviewCycle) -> ReviewCycle:
        if not form.has_changed():
            return cycle
        return services.cycle_update(
            cycle=cycle, version=form.cleaned_data["version"], **self._values(form)
        )

    @staticmethod
    def _values(form) -> dict:
        names = ["name", "start_date", "end_date", "expectations_due_days"]
        return {name: form.cleaned_data[name] for name in names}

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its reviews and their history point at it


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

    def get_queryset(self, request):
        # The admin lists reviews under the same rule as the app (admins see all).
        return super().get_queryset(request).visible_to(request.user)


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ["local_date", "kind", "cycle", "person", "recipient", "digest"]
    list_filter = ["kind", "local_date", "cycle"]
    list_select_related = ["cycle", "person", "recipient", "digest"]
    date_hierarchy = "local_date"
