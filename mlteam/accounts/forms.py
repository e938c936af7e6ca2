"""The token settings page's form: shapes only; the rules are token_create's."""

from __future__ import annotations

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mlteam.forms import DateField

from .models import ApiToken, TokenScope
from .services import LONGEST_EXPIRY


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What uses it, such as “nightly export” or “my laptop”."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text=_("A read-only token can read what you can see, never change it."),
    )
    expires_on = DateField(
        label=_("Expires on"),
        required=False,
        help_text=_("The token stops working at the end of this day. Leave empty for no expiry."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The date picker offers the days token_create accepts (it checks them again).
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + LONGEST_EXPIRY).isoformat(),
            }
        )
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "name",
            Row(Column("scope", css_class="col-sm-6"), Column("expires_on", css_class="col-sm-6")),
            Submit("create", _("Create token")),
        )
