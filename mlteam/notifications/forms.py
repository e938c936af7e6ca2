"""Webhook forms: validation and layout only (the services decide the rest)."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WebhookEvent


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
