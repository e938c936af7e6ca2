"""Site-wide endpoints and the allow-list, for admins. Endpoints are written
through the services (the secret is shown once, as a message, when made)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .addresses import check_url
from .models import WebhookAllowedHost, WebhookDelivery, WebhookEndpoint, WebhookEvent


class EndpointAdminForm(forms.ModelForm):
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
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["__str__", "project", "active", "consecutive_failures", "created_by"]
    list_filter = ["active"]
    readonly_fields = ["active", "disabled_at", "disabled_reason", "consecutive_failures"]
    list_select_related = ["project", "created_by"]
    actions = ["turn_on", "turn_off", "rotate_secret"]

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
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user, version=None)
            messages.warning(
                request,
                _("New signing secret of %(endpoint)s (shown only now, copy it): %(secret)s")
                % {"endpoint": endpoint, "secret": endpoint.secret},
            )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                services.endpoint_update(
                    endpoint=obj,
                    actor=request.user,
                    version=None,
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                )
            else:
                endpoint = services.endpoint_create(
                    actor=request.user,
                    project=data["project"],
                    url=data["url"],
                    events=data["events"],
                    description=data["description"],
                )
                obj.pk = endpoint.pk
                messages.warning(
                    request,
                    _("Signing secret (shown only now, copy it): %(secret)s")
                    % {"secret": endpoint.secret},
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj, actor=request.user, version=None)


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


@admin.register(WebhookAllowedHost)
class WebhookAllowedHostAdmin(admin.ModelAdmin):
    list_display = ["host", "note", "created_at"]
