"""Review cycles in the Django admin. Admins define cycles here, through the
same services as the app; reviews and their history are read-only (private;
every change must come from the app, where it is recorded). Opening a review
here is a read like any other (`services.review_access_record`), and the log of
reads is read-only: nobody adds, changes or deletes a row of it."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mlteam.admin import ServiceAdmin
from mlteam.people import person_name

from . import services
from .models import (
    Review,
    ReviewAccess,
    ReviewCycle,
    ReviewEvent,
    ReviewReminder,
    ReviewSurface,
    review_parts_written,
)


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
    readonly_fields = ["reads"]
    inlines = [ReviewEventInline]

    def get_queryset(self, request):
        # The admin lists reviews under the same rule as the app (admins see all).
        return super().get_queryset(request).visible_to(request.user)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The page shows the whole review (every field, and its history inline).
        if obj is not None:
            services.review_access_record(
                review=obj,
                reader=request.user,
                parts=review_parts_written(obj),
                surface=ReviewSurface.ADMIN,
                request=request,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("who read it"))
    def reads(self, review: Review) -> str:
        url = reverse("admin:reviews_reviewaccess_changelist")
        return format_html(
            '<a href="{}?review={}">{}</a>', url, review.pk, _("Reads of this review")
        )


@admin.register(ReviewReminder)
class ReviewReminderAdmin(ReadOnlyAdmin):
    list_display = ["local_date", "kind", "cycle", "person", "recipient", "digest"]
    list_filter = ["kind", "local_date", "cycle"]
    list_select_related = ["cycle", "person", "recipient", "digest"]
    date_hierarchy = "local_date"


@admin.register(ReviewAccess)
class ReviewAccessAdmin(ReadOnlyAdmin):
    """The log of reads: read-only, whoever asks (superusers included)."""

    list_display = ["created_at", "reader_shown", "review_person", "review_cycle", "what",
                    "surface"]  # fmt: skip
    list_filter = ["surface", "review__cycle"]
    search_fields = [
        "reader_name",
        "reader__username",
        "review__person__username",
        "review__person__first_name",
        "review__person__last_name",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["reader", "review__person", "review__cycle"]
    fields = ["created_at", "reader_shown", "review", "what", "surface"]
    readonly_fields = fields

    def get_queryset(self, request):
        # Reads of the reviews the viewer may see (`ReviewQuerySet.visible_to`).
        visible = Review.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(review__in=visible)

    @admin.display(description=_("reader"), ordering="reader_name")
    def reader_shown(self, access: ReviewAccess) -> str:
        return access.reader_label

    @admin.display(description=_("person"), ordering="review__person__username")
    def review_person(self, access: ReviewAccess) -> str:
        return person_name(access.review.person)

    @admin.display(description=_("cycle"), ordering="review__cycle__start_date")
    def review_cycle(self, access: ReviewAccess) -> str:
        return str(access.review.cycle)

    @admin.display(description=_("what was read"))
    def what(self, access: ReviewAccess) -> str:
        return ", ".join(access.part_labels)
