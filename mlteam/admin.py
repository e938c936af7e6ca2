from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from .models import Anonymisation, WorkerHeartbeat
from .people import ANONYMISED_USERNAME_PREFIX, is_anonymised, is_anonymised_name
from .services import people_deactivate

admin.site.site_header = _("MLTeam administration")
admin.site.site_title = _("MLTeam administration")


def action_confirmation(
    modeladmin: admin.ModelAdmin, request, queryset: QuerySet, *, title, question, button
) -> TemplateResponse | None:
    """For an admin action that changes data through a service: None once the admin
    confirmed (the page below posts back with post=yes), else that page, drawn like
    Django's "delete selected" confirmation."""
    if request.POST.get("post") == "yes":
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "button": button,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/action_confirmation.html", context)


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at", "beats"]
    search_fields = ["hostname"]
    readonly_fields = ["hostname", "seen_at", "beats"]


class ScheduledTaskForm(PeriodicTaskForm):
    """django-celery-beat's form, with a saved task that the worker registers drawn
    as chosen in "Task (registered)" (upstream leaves that list blank and shows the
    name only under "Task (custom)")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        registered = {value for value, _label in self.fields["regtask"].widget.choices if value}
        if self.instance.pk and self.instance.task in registered:
            self.initial.setdefault("regtask", self.instance.task)
            self.initial["task"] = ""


class ScheduledTaskAdmin(PeriodicTaskAdmin):
    form = ScheduledTaskForm


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduledTaskAdmin)


# --- people: deactivated or anonymised, never deleted (docs/data-retention.md)

RESERVED_USERNAME_MESSAGE = _(
    "Usernames starting with “%(prefix)s” are kept for anonymised accounts."
)


def _refuse_reserved_username(username: str) -> str:
    if is_anonymised_name(username):
        raise ValidationError(
            RESERVED_USERNAME_MESSAGE,
            code="reserved",
            params={"prefix": ANONYMISED_USERNAME_PREFIX},
        )
    return username


class PersonCreationForm(AdminUserCreationForm):
    def clean_username(self):
        return _refuse_reserved_username(super().clean_username())


class PersonChangeForm(UserChangeForm):
    def clean_username(self):
        username = self.cleaned_data["username"]
        if username != self.instance.username:  # the anonymised keep theirs
            _refuse_reserved_username(username)
        return username


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    """Django's user admin, except that people are never deleted: the history they
    wrote points at them. "Deactivate selected people" switches accounts off
    instead; `manage.py anonymise_person` answers a data-protection request, and
    an anonymised account is read-only here."""

    form = PersonChangeForm
    add_form = PersonCreationForm
    list_display = [*UserAdmin.list_display, "is_active"]
    actions = ["deactivate_selected"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and is_anonymised(obj):
            return False
        return super().has_change_permission(request, obj)

    @admin.action(description=_("Deactivate selected people"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        page = action_confirmation(
            self,
            request,
            queryset,
            title=_("Deactivate people"),
            question=_(
                "Deactivate these people? They can no longer sign in and are signed out "
                "everywhere; their name stays on their teams, their deliverables and the "
                "history they wrote. An admin can reactivate them."
            ),
            button=_("Deactivate"),
        )
        if page is not None:
            return page
        try:
            deactivated = people_deactivate(people=queryset, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        for person in deactivated:
            self.log_change(request, person, gettext("Deactivated."))
        self.message_user(
            request,
            ngettext(
                "Deactivated %(count)d person.", "Deactivated %(count)d people.", len(deactivated)
            )
            % {"count": len(deactivated)},
            messages.SUCCESS,
        )
        return None


@admin.register(Anonymisation)
class AnonymisationAdmin(admin.ModelAdmin):
    """The record of every anonymisation (written by `anonymise_person`): read-only."""

    list_display = ["user", "created_at", "run_by", "operator", "reason"]
    search_fields = ["reason", "operator"]
    list_select_related = ["user", "run_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
