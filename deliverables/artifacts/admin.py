"""The admin for artifact systems (saved through the services) and, read only, the
states the polls recorded. A system's token is write-only: its field is always
drawn empty, typing one replaces it, "remove the token" clears it."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mlteam.admin import ServiceAdmin, VersionedAdminForm, changed_fields, form_fields
from mlteam.forms import WriteOnlySecrets

from . import services
from .models import ArtifactState, ArtifactSystem


class ArtifactSystemForm(WriteOnlySecrets, VersionedAdminForm):
    write_only = ("new_token",)
    new_token = forms.CharField(
        label=_("Token"),
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Never shown again once saved. Leave empty to keep the current token. GitHub: "
            "a fine-grained token with read access to commit statuses, checks and pull "
            "requests; GitLab: a read_api token; Airflow and MLflow: user:password for "
            "basic authentication, or a bearer token."
        ),
    )
    remove_token = forms.BooleanField(label=_("Remove the token"), required=False)
    base_url = forms.URLField(label=_("API base address"), max_length=300, assume_scheme="https")

    class Meta:
        model = ArtifactSystem
        fields = list(services.SYSTEM_FIELDS)

    def clean(self):
        data = super().clean()
        if data.get("new_token") and data.get("remove_token"):
            raise forms.ValidationError(_("Either type a new token or remove it, not both."))
        return data

    def token_change(self) -> str | None:
        """The token to save: None keeps the current one, "" removes it."""
        if self.cleaned_data.get("remove_token"):
            return ""
        return self.cleaned_data.get("new_token") or None


@admin.register(ArtifactSystem)
class ArtifactSystemAdmin(ServiceAdmin):
    form = ArtifactSystemForm
    list_display = [
        "name",
        "kind",
        "base_url",
        "active",
        "token_set",
        "last_error",
        "backoff_until",
    ]
    list_filter = ["kind", "active"]
    readonly_fields = ["token_set", "last_error", "last_error_at", "backoff_until"]
    fieldsets = [
        (
            None,
            {"fields": list(services.SYSTEM_FIELDS)},
        ),
        (_("Token"), {"fields": ["token_set", "new_token", "remove_token", "version"]}),
        (_("Last problem"), {"fields": ["last_error", "last_error_at", "backoff_until"]}),
    ]

    actions = ["poll_now"]

    @admin.action(description=_("Poll the selected systems' links at the next sweep"))
    def poll_now(self, request, queryset) -> None:
        count = services.artifact_systems_poll_now(systems=list(queryset))
        self.message_user(
            request,
            ngettext(
                "%(count)d link will be polled within a minute.",
                "%(count)d links will be polled within a minute.",
                count,
            )
            % {"count": count},
        )

    @admin.display(boolean=True, description=_("token set"))
    def token_set(self, system: ArtifactSystem) -> bool:
        return system.has_token

    def deleted(self) -> None:
        services.systems_changed()

    def create(self, request, form) -> ArtifactSystem:
        return services.artifact_system_create(
            token=form.token_change() or "", **form_fields(form, services.SYSTEM_FIELDS)
        )

    def update(self, request, form, system: ArtifactSystem) -> ArtifactSystem:
        changes = changed_fields(form, services.SYSTEM_FIELDS)
        token = form.token_change()
        if not changes and token is None:
            return system
        return services.artifact_system_update(
            system=system, version=form.cleaned_data["version"], token=token, **changes
        )


@admin.register(ArtifactState)
class ArtifactStateAdmin(admin.ModelAdmin):
    list_display = ["link", "system", "status", "observed_at", "error", "error_at", "next_poll_at"]
    list_filter = ["status", "error", "system"]
    list_select_related = ["link", "system"]
    search_fields = ["link__url", "link__label"]
    fields = [
        "link",
        "system",
        "status",
        "facts",
        "model_version",
        "observed_at",
        "changed_at",
        "error",
        "error_at",
        "next_poll_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
