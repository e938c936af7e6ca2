"""Webhook forms: validation and layout only (the services decide the rest)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IMMEDIATE_KINDS, DigestChannel, WebhookEvent
from .personal import CHAT_NEEDS_ADDRESS_MESSAGE as CHAT_NEEDS_ADDRESS


class EndpointForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where MLTeam posts the events, e.g. https://example.com/hooks/mlteam."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ConfirmForm(forms.Form):
    """A change of state (turn off, rotate, delete): the version the page was drawn from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- a person's own notification settings ---------------------------------------------------


class ChatAddressForm(forms.Form):
    """The person's chat address (checked again, and for safety, by the service)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    url = forms.CharField(
        label=_("Chat address"),
        max_length=500,
        strip=True,
        error_messages={"required": _("Enter your chat's incoming-webhook address.")},
        help_text=_(
            "An incoming-webhook address from Slack or Mattermost that posts to you "
            "(a direct message or a private channel of yours). It works like a "
            "password: MLTeam shows only its end once saved."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class NotificationPreferenceForm(forms.Form):
    """How the digest comes, and per inbox kind whether it also comes at once by
    email or chat (the inbox always). Chat needs a saved address: refused here with
    a clear message, and by the service."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    digest_by = forms.ChoiceField(
        label=_("Daily digest"),
        choices=DigestChannel.choices,
        widget=forms.RadioSelect,
        help_text=_("It comes at your hour on your working days, as set in Reminder settings."),
    )

    def __init__(self, *args, has_chat: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_chat = has_chat
        self.kinds = []
        for kind in IMMEDIATE_KINDS:
            email = f"email_{kind.value}"
            chat = f"chat_{kind.value}"
            self.fields[email] = forms.BooleanField(label=_("Email"), required=False)
            self.fields[chat] = forms.BooleanField(label=_("Chat"), required=False)
            if not has_chat:
                self.fields[chat].widget.attrs["disabled"] = True
            self.kinds.append((kind.label, self[email], self[chat]))

    @classmethod
    def initial_for(cls, preference) -> dict:
        initial = {"version": preference.version, "digest_by": preference.digest_by}
        for kind in IMMEDIATE_KINDS:
            chosen = (preference.event_channels or {}).get(kind.value) or []
            initial[f"email_{kind.value}"] = "email" in chosen
            initial[f"chat_{kind.value}"] = "chat" in chosen
        return initial

    def clean(self):
        data = super().clean()
        if self.has_chat:
            return data
        if data.get("digest_by") in (DigestChannel.CHAT, DigestChannel.BOTH):
            self.add_error("digest_by", CHAT_NEEDS_ADDRESS)
        if any(data.get(f"chat_{kind.value}") for kind in IMMEDIATE_KINDS):
            self.add_error(None, CHAT_NEEDS_ADDRESS)
        return data

    def event_channels(self) -> dict[str, list[str]]:
        data = self.cleaned_data
        channels = {}
        for kind in IMMEDIATE_KINDS:
            chosen = [
                channel for channel in ("email", "chat") if data.get(f"{channel}_{kind.value}")
            ]
            if chosen:
                channels[kind.value] = chosen
        return channels
