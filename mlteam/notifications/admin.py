"""Site-wide endpoints and the allow-list, for admins. Endpoints are written
through the services (the secret is shown once, on a page that is not kept)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mlteam.admin import ServiceAdmin, VersionedAdminForm

from . import services
from .addresses import check_url
from .models import (
    PersonalDelivery,
    WebhookAllowedHost,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


class EndpointAdminForm(VersionedAdminForm):
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["project", "url", "description", "events"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        check_url(url)  # UnsafeAddress is a ValidationError: shown on the field
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceAdmin):
    """Endpoints saved, switched, rotated and deleted through the services, with the
    version the form was drawn from (mlteam.admin.ServiceAdmin). A new secret is
    shown once, on a page of its own that is not kept (no-store), never in a message."""

    form = EndpointAdminForm
    list_display = ["__str__", "project", "active", "consecutive_failures", "created_by"]
    list_filter = ["active"]
    readonly_fields = ["active", "disabled_at", "disabled_reason", "consecutive_failures"]
    list_select_related = ["project", "created_by"]
    actions = ["turn_on", "turn_off", "rotate_secret"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # An endpoint stays with its project (or site-wide): make a new one instead.
        return [*fields, "project"] if obj is not None else fields

    def create(self, request, form) -> WebhookEndpoint:
        data = form.cleaned_data
        return services.endpoint_create(
            actor=request.user,
            project=data["project"],
            url=data["url"],
            events=data["events"],
            description=data["description"],
        )

    def update(self, request, form, row: WebhookEndpoint) -> WebhookEndpoint:
        data = form.cleaned_data
        return services.endpoint_update(
            endpoint=row,
            actor=request.user,
            version=data["version"],
            url=data["url"],
            events=data["events"],
            description=data["description"],
        )

    def delete_model(self, request, obj) -> None:
        services.endpoint_delete(endpoint=obj, actor=request.user, version=None)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint, actor=request.user, version=None)

    def _secrets(self, request, endpoints) -> TemplateResponse:
        response = TemplateResponse(
            request,
            "admin/notifications/webhook_secrets.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Signing secrets"),
                "endpoints": endpoints,
                "changelist_url": reverse("admin:notifications_webhookendpoint_changelist"),
            },
        )
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response

    def response_add(self, request, obj, post_url_continue=None):
        return self._secrets(request, [obj])

    @admin.action(description=_("Turn the selected webhooks on"))
    def turn_on(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_set_active(
                endpoint=endpoint, actor=request.user, version=None, active=True
            )

    @admin.action(description=_("Turn the selected webhooks off"))
    def turn_off(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_set_active(
                endpoint=endpoint, actor=request.user, version=None, active=False
            )

    @admin.action(description=_("Make new signing secrets (shown once)"))
    def rotate_secret(self, request, queryset):
        rotated = [
            services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user, version=None)
            for endpoint in queryset
        ]
        return self._secrets(request, rotated)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_response_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PersonalDelivery)
class PersonalDeliveryAdmin(admin.ModelAdmin):
    """A person's digests in chat and their inbox entries by email or chat, read only
    (what went out, when, and why not): where an admin looks when someone says a
    message never came."""

    list_display = [
        "event_type",
        "person",
        "channel",
        "status",
        "attempts",
        "last_response_code",
        "created_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["person"]
    search_fields = ["person__username", "event_id"]
    readonly_fields = [field.name for field in PersonalDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookAllowedHost)
class WebhookAllowedHostAdmin(admin.ModelAdmin):
    """Host, or host and port; re-checked before every request (`addresses.check_url`)."""

    list_display = ["host", "port_shown", "note", "created_at"]
    fields = ["host", "port", "note"]
    search_fields = ["host", "note"]

    @admin.display(description=_("port"), ordering="port")
    def port_shown(self, obj: WebhookAllowedHost) -> str:
        return str(obj.port) if obj.port else gettext("default (443/80)")
