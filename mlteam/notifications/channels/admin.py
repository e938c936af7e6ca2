"""Chat channels for admins, saved, switched, tested and deleted through the
services (with the version the form was drawn from); the message log, read-only.
A saved address is never drawn again: the form shows its end, and a new one
replaces it only when typed."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deliverables.forms import WorkingDaysField
from mlteam.admin import ServiceAdmin, VersionedAdminForm
from mlteam.notifications.models import DeliveryStatus

from . import services
from .models import ChatChannel, ChatDelivery, ChatEvent

SERVICE_FIELDS = [
    "name",
    "platform",
    "events",
    "daily_summary",
    "hour",
    "time_zone",
    "working_days",
    "paused_until",
    "due_soon_days",
    "language",
]


class ChannelAdminForm(VersionedAdminForm):
    address = forms.URLField(
        label=_("webhook address"),
        max_length=2000,
        assume_scheme="https",
        required=False,
        widget=forms.URLInput(attrs={"autocomplete": "off", "size": 80}),
    )
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=ChatEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    working_days = WorkingDaysField(help_text=_("Summaries come on these days only."))

    class Meta:
        model = ChatChannel
        fields = ["project", *SERVICE_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["address"].help_text = gettext(
                "Leave empty to keep the saved address (%(hint)s)."
            ) % {"hint": self.instance.url_hint}
        else:
            self.fields["address"].required = True


@admin.register(ChatChannel)
class ChatChannelAdmin(ServiceAdmin):
    form = ChannelAdminForm
    list_display = [
        "name",
        "project",
        "platform",
        "url_hint",
        "active",
        "daily_summary",
        "consecutive_failures",
        "created_by",
    ]
    list_filter = ["active", "platform", "daily_summary"]
    list_select_related = ["project", "created_by"]
    search_fields = ["name", "project__name"]
    readonly_fields = ["url_hint", "active", "disabled_reason", "consecutive_failures"]
    actions = ["turn_on", "turn_off", "send_test"]

    def get_fields(self, request, obj=None):
        fields = ["project", "name", "platform", "address"]
        if obj is not None:
            fields.insert(3, "url_hint")
        return [*fields, *SERVICE_FIELDS[2:], "version", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A channel stays with its project: make a new one instead.
        return [*fields, "project"] if obj is not None else fields

    @admin.display(description=_("address"))
    def url_hint(self, obj: ChatChannel) -> str:
        return obj.url_hint

    def _fields(self, form) -> dict:
        return {name: form.cleaned_data[name] for name in SERVICE_FIELDS}

    def create(self, request, form) -> ChatChannel:
        return services.channel_create(
            actor=request.user,
            project=form.cleaned_data["project"],
            url=form.cleaned_data["address"],
            **self._fields(form),
        )

    def update(self, request, form, row: ChatChannel) -> ChatChannel:
        return services.channel_update(
            channel=row,
            actor=request.user,
            version=form.cleaned_data["version"],
            url=form.cleaned_data["address"] or None,
            **self._fields(form),
        )

    def delete_model(self, request, obj) -> None:
        services.channel_delete(channel=obj, actor=request.user, version=None)

    def delete_queryset(self, request, queryset) -> None:
        for channel in queryset.select_related("project"):
            services.channel_delete(channel=channel, actor=request.user, version=None)

    @admin.action(description=_("Turn the selected channels on"))
    def turn_on(self, request, queryset):
        for channel in queryset.select_related("project"):
            services.channel_set_active(
                channel=channel, actor=request.user, version=None, active=True
            )

    @admin.action(description=_("Turn the selected channels off"))
    def turn_off(self, request, queryset):
        for channel in queryset.select_related("project"):
            services.channel_set_active(
                channel=channel, actor=request.user, version=None, active=False
            )

    @admin.action(description=_("Send the selected channels a test message"))
    def send_test(self, request, queryset):
        for channel in queryset.select_related("project"):
            try:
                result = services.channel_test(channel=channel, actor=request.user)
            except ValidationError as error:  # one refusal must not stop the others
                messages.error(request, f"{channel}: {' '.join(error.messages)}")
                continue
            if result.status == DeliveryStatus.SUCCEEDED:
                messages.success(
                    request, gettext("%(name)s: test message sent.") % {"name": channel}
                )
            else:
                messages.error(
                    request,
                    gettext("%(name)s: the test message did not arrive: %(error)s")
                    % {"name": channel, "error": result.error},
                )


@admin.register(ChatDelivery)
class ChatDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "channel",
        "status",
        "attempts",
        "last_response_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["channel"]
    readonly_fields = [field.name for field in ChatDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
