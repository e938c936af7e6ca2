"""The admin site's settings, and the base every admin that edits versioned rows
builds on: its forms carry the version they were drawn from, and its saves go
through the services, so an admin save is checked, recorded and refused exactly
as the same change made in the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from operator import attrgetter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core import checks
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from .accounts import services as account_services
from .accounts.permissions import can_reset_two_factor
from .forms import VersionField
from .models import Anonymisation, WorkerHeartbeat
from .people import ANONYMISED_USERNAME_PREFIX, is_anonymised, is_anonymised_name
from .services import people_deactivate

admin.site.site_header = _("MLTeam administration")
admin.site.site_title = _("MLTeam administration")

ADMIN_STALE_MESSAGE = _(
    "Someone else changed the %(model)s “%(name)s” after you opened this page, so "
    "nothing was saved. Open the page again to see the current values, then make "
    "your change again."
)


class VersionedAdminForm(forms.ModelForm):
    """An admin form carrying the version of the row it was drawn from.

    `version_of` names the row that holds the version: the edited row itself
    (None), or the one whose version guards it ("project" for a membership, as
    the app's team forms carry the project's version). On a change form,
    `clean()` locks that row (SELECT ... FOR UPDATE, held until the admin's
    transaction ends) and refuses the save when its version moved on since the
    page was drawn. The services then claim the same version
    (`mlteam.versions.claim_version`), which stays the rule; this check words the
    refusal for a page that, unlike the app's forms, is not re-offered with a
    fresh version: the person opens it again and sees what changed.
    """

    version = VersionField(required=False)
    version_of: str | None = None
    # What a service refused on the first attempt at this very input (`ServiceAdmin`).
    refusal: ValidationError | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        row = self.version_row()
        if row is not None:
            self.initial["version"] = row.version

    def version_row(self) -> models.Model | None:
        """The row whose version this form carries; None on an add form."""
        if self.instance.pk is None:
            return None
        return attrgetter(self.version_of)(self.instance) if self.version_of else self.instance

    def stale_error(self) -> ValidationError:
        """The refusal, with a link that opens the page afresh (reloading the page
        would only post the same stale form again)."""
        row = self.version_row()
        opts = self.instance._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[self.instance.pk])
        message = format_html(
            '{} <a href="{}">{}</a>',
            ADMIN_STALE_MESSAGE % {"model": row._meta.verbose_name, "name": row},
            url,
            _("Open the current version"),
        )
        return ValidationError(message, code="stale")

    def clean(self):
        cleaned_data = super().clean()
        # A hidden field shows no error of its own: a version that is not one (a
        # mangled or forged page) is missing, so the form is refused as stale, visibly.
        self._errors.pop("version", None)
        if self.refusal is not None:
            if getattr(self.refusal, "code", None) == "stale" and self.version_row() is not None:
                raise self.stale_error()
            raise ValidationError(self.refusal.messages, code="refused")
        row = self.version_row()
        if row is not None:
            current = (
                type(row)
                ._default_manager.select_for_update()
                .filter(pk=row.pk)
                .values_list("version", flat=True)
                .first()
            )
            if cleaned_data.get("version") is None or cleaned_data["version"] != current:
                raise self.stale_error()
        return cleaned_data


class ServiceRefusal(Exception):
    """A service refused what an admin form asked for, after the form was valid."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


@contextmanager
def service_call() -> Iterator[None]:
    """Turn a service's ValidationError into a ServiceRefusal for `ServiceAdmin`."""
    try:
        yield
    except ValidationError as error:
        raise ServiceRefusal(error) from error


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Give the admin's object (the form's instance) what the service saved, so the
    admin's messages, log entry and inlines see the row as it now is."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


_REFUSAL = "_mlteam_admin_refusal"


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose add and change forms save through the services.

    1. The form carries the version (`VersionedAdminForm`; `version_of` as there).
    2. `create(request, form)` and `update(request, form, row)` call the services
       with the form's cleaned data, the admin user as the actor and, on a change,
       the version; they return the saved row. The row given to `update` is read
       afresh (under the form's lock), so the services see the values before the
       change and record them in the history.
    3. Inline formsets save through their own formset classes (or are read-only);
       the many-to-many fields are for `create`/`update`, not `save_m2m`.
    4. Should a service still refuse (a rule only the service checks, or a race the
       lock could not prevent), the whole attempt is rolled back with the admin's
       transaction, and the form is drawn again from the same input with the
       refusal on it: no 500, nothing half-saved.
    """

    form = VersionedAdminForm
    version_of: str | None = None

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.list_editable:
            errors.append(
                checks.Error(
                    "A ServiceAdmin cannot edit rows in its list: a list cannot carry "
                    "each row's version, and its saves would not reach the services.",
                    obj=self.__class__,
                    id="mlteam.E001",
                )
            )
        return errors

    def create(self, request, form) -> models.Model:
        raise NotImplementedError

    def update(self, request, form, row: models.Model) -> models.Model:
        raise NotImplementedError

    def fresh(self, obj: models.Model) -> models.Model:
        return type(obj)._default_manager.get(pk=obj.pk)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {"version_of": self.version_of, "refusal": getattr(request, _REFUSAL, None)}
        return type(form.__name__, (form,), attrs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefusal as refusal:
            # changeform_view's transaction has rolled back everything the attempt wrote.
            setattr(request, _REFUSAL, refusal.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        with service_call():
            if change:
                saved = self.update(request, form, self.fresh(obj))
            else:
                saved = self.create(request, form)
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change) -> None:
        for formset in formsets:
            with service_call():
                self.save_formset(request, form, formset, change=change)

    def deleted(self) -> None:
        """After Django's own delete, for the admins that allow one (no service
        deletes those rows): what a dashboard shows of them (`mlteam.cache`)."""

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self.deleted()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        self.deleted()


class ReadOnlyInline(admin.TabularInline):
    """Rows that carry history (checklist answers, links, comments, the team) are
    changed where the services record who changed what: the app's pages, or their
    own admin. An inline of them shows them, with a link to that place."""

    extra = 0
    can_delete = False
    # Read-only rows still get forms built: addresses typed without a scheme are https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def changed_fields(form: forms.ModelForm, names) -> dict:
    """The cleaned values of those of `names` the person changed."""
    changed = set(form.changed_data)
    return {name: form.cleaned_data[name] for name in names if name in changed}


def form_fields(form: forms.ModelForm, names) -> dict:
    """The cleaned values of those of `names` the form has."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


def apply_each(modeladmin: admin.ModelAdmin, request, rows, call, done) -> None:
    """Run a service `call(row)` on each row of an admin action, each on its own:
    a row the service refuses (an archived project, say) is named with the reason
    and the others still go through; `done` words the count of those that did
    (an ngettext with %(count)d)."""
    succeeded, refused = 0, []
    for row in rows:
        try:
            call(row)
        except ValidationError as error:
            refused.append(f"{row}: {' '.join(error.messages)}")
            continue
        succeeded += 1
    modeladmin.message_user(request, done(succeeded) % {"count": succeeded}, messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.ERROR)


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


class PersonPasswordForm(AdminPasswordChangeForm):
    """The admin's "set password" form, saving through `password_set`: the person's
    API tokens are revoked with their old password (`tokens_revoked` says how many)
    and they are signed out everywhere."""

    tokens_revoked = 0

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        self.tokens_revoked = account_services.password_set(
            user=self.user,
            password=self.cleaned_data["password1"] if usable else None,
            reason=account_services.RevokeReason.SET_BY_ADMIN,
        )
        return self.user


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
    change_password_form = PersonPasswordForm
    list_display = [*UserAdmin.list_display, "is_active"]
    actions = ["deactivate_selected", "reset_two_factor_selected"]

    def construct_change_message(self, request, form, formsets, add=False):
        # Called by Django's "set password" view right after the form saved: the one
        # place that has both the request and the form, to tell the admin.
        if isinstance(form, PersonPasswordForm) and form.tokens_revoked:
            messages.warning(
                request,
                ngettext(
                    "%(count)d API token of this person was revoked with the old password.",
                    "%(count)d API tokens of this person were revoked with the old password.",
                    form.tokens_revoked,
                )
                % {"count": form.tokens_revoked},
            )
        return super().construct_change_message(request, form, formsets, add)

    def save_model(self, request, obj, form, change) -> None:
        """Unticking "active" on the change form also signs the person out
        everywhere and revokes their API tokens, as the "Deactivate" action
        (`people_deactivate`) does."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            account_services.sessions_end(user_ids=[obj.pk])
            account_services.people_tokens_revoke(
                user_ids=[obj.pk], reason=account_services.RevokeReason.DEACTIVATED
            )

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

    @admin.action(
        description=_("Reset two-factor authentication of selected people"),
        permissions=["reset_two_factor"],
    )
    def reset_two_factor_selected(self, request, queryset):
        page = action_confirmation(
            self,
            request,
            queryset,
            title=_("Reset two-factor authentication"),
            question=_(
                "Remove the authenticator app and recovery codes of these people? They "
                "sign in with their password alone until they set up a new app, at once "
                "if the sign-in policy requires it. Do this for someone who lost their "
                "phone, after checking it is really them."
            ),
            button=_("Reset two-factor authentication"),
        )
        if page is not None:
            return page
        people = list(queryset)
        reset = account_services.two_factor_reset(people=people, actor=request.user)
        for person in people:
            self.log_change(request, person, gettext("Two-factor authentication reset."))
        self.message_user(
            request,
            ngettext(
                "Reset the two-factor authentication of %(count)d person.",
                "Reset the two-factor authentication of %(count)d people.",
                reset,
            )
            % {"count": reset},
            messages.SUCCESS,
        )
        return None

    def has_reset_two_factor_permission(self, request) -> bool:
        return can_reset_two_factor(request.user)


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
