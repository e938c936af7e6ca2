"""Form helpers shared by the apps' views."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _


def form_add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal (stale version, archived project, ...) on the form."""
    for message in error.messages:
        form.add_error(None, message)


def form_refresh_version(form: forms.BaseForm, version: int) -> None:
    """Let a re-shown form be resubmitted against the version now in the database,
    after the person has seen the refusal and what changed."""
    if form.is_bound:
        data = form.data.copy()
        data[form.add_prefix("version")] = str(version)
        form.data = data


def time_zone_names() -> list[str]:
    """The time zones people pick from: region/city names and UTC, sorted."""
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


class TimeZoneInput(forms.TextInput):
    """A text box with the time zones as suggestions (a <datalist>), so a person
    types "Tokyo" instead of scrolling through six hundred names. Plain HTML: no
    script, works in the admin and on the site alike."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["list"] = self._list_id(context["widget"]["attrs"], name)
        return context

    @staticmethod
    def _list_id(attrs, name) -> str:
        return f"{attrs.get('id') or 'id_' + name}_list"

    def render(self, name, value, attrs=None, renderer=None):
        box = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">', ((z,) for z in time_zone_names()))
        list_id = self._list_id(self.build_attrs(self.attrs, attrs), name)
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class TimeZoneField(forms.CharField):
    """A time zone name, checked against zoneinfo; "asia/tokyo" becomes "Asia/Tokyo"."""

    widget = TimeZoneInput
    default_error_messages = {
        "unknown": _("%(value)s is not a time zone; use a name such as Asia/Tokyo."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", _("Type a city or region, such as Tokyo, and pick it."))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        known = {name.lower(): name for name in zoneinfo.available_timezones()}
        return known.get(value.lower(), value)

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values and value not in zoneinfo.available_timezones():
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value}
            )
