"""Form helpers shared by the apps' views."""

from __future__ import annotations

import zoneinfo
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, models
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


class MultilineField(forms.CharField):
    """Text written in a textarea, kept with the line breaks it was saved with.

    Browsers submit every line break as CR LF; text saved any other way (the
    admin, a service, the seed) has bare LFs. Without this, saving a form
    unchanged rewrote such text (and a changed text is a new version to
    acknowledge). Every textarea field is one of these.
    """

    widget = forms.Textarea

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


def _pk_in_range(model, value) -> bool:
    """Whether `value` can be an id of `model` in this database: an integer id
    beyond its column's range overflows SQLite and is refused by PostgreSQL."""
    pk = model._meta.pk
    if pk.is_relation:  # a child table's id is its parent's
        pk = pk.target_field
    try:
        value = pk.to_python(value)
    except ValidationError:
        return False
    if isinstance(value, int):
        low, high = connection.ops.integer_field_range(pk.get_internal_type())
        if isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
            low = 1  # generated ids start at 1
        return (low is None or value >= low) and (high is None or value <= high)
    return True


class BoundedModelChoiceField(forms.ModelChoiceField):
    """A choice of one row, refusing ids the database cannot hold before querying."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.to_field_name is None and not _pk_in_range(self.queryset.model, value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A choice of rows, refusing ids the database cannot hold before querying."""

    def _check_values(self, value):
        if self.to_field_name is None:
            for pk in value:
                if not _pk_in_range(self.queryset.model, pk):
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super()._check_values(value)


# The largest integer every database column we compare with takes (PositiveIntegerField).
INTEGER_MAX = 2**31 - 1


class VersionField(forms.IntegerField):
    """The version a page was drawn from (see the services' `_claim_version`)."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput, min_value=1, max_value=INTEGER_MAX, **kwargs)


class SearchField(forms.CharField):
    """A list's search box. NUL is refused by every CharField; this also caps the
    length, so a search is never longer than the text it looks through."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Search"))
        super().__init__(required=False, max_length=200, **kwargs)


class PageField(forms.IntegerField):
    """A page number; anything else (a word, 10**30) is no page at all, so page 1."""

    def __init__(self, **kwargs):
        super().__init__(
            required=False, min_value=1, max_value=INTEGER_MAX, widget=forms.HiddenInput, **kwargs
        )


class QueryForm(forms.Form):
    """Base of every form that reads a page's query parameters.

    A list reads the address only through one of these: each parameter is a
    field that refuses what the database cannot take, an invalid one is left out
    (`values()`) and the page is shown as if it were absent.
    """

    page = PageField()

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data if data else None, *args, **kwargs)

    def values(self) -> dict:
        """The valid parameters, each invalid or absent one as None."""
        if self.is_bound:
            self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields}


class DateField(forms.DateField):
    """A day picked in a date input, within years pages can count from.

    Pages add and subtract days (due-date offsets, bands, reminders); a day at
    the calendar's edge (31 Dec 9999) made them fail. The widget always draws
    ISO dates, the only shape `type="date"` shows, whatever the language.
    """

    def __init__(
        self, *, first: date = date(1900, 1, 1), last: date = date(2999, 12, 31), **kwargs
    ):
        self.first, self.last = first, last
        kwargs.setdefault(
            "widget",
            forms.DateInput(
                format="%Y-%m-%d",
                attrs={"type": "date", "min": first.isoformat(), "max": last.isoformat()},
            ),
        )
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not (self.first <= value <= self.last):
            raise ValidationError(
                _("Use dates between the years %(first)s and %(last)s."),
                code="out_of_range",
                params={"first": self.first.year, "last": self.last.year},
            )


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
    """A time zone name, checked against zoneinfo; "asia/tokyo" and "Tokyo" become
    "Asia/Tokyo"."""

    widget = TimeZoneInput
    default_error_messages = {
        "unknown": _("%(value)s is not a time zone; use a name such as Asia/Tokyo."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", _("Type a city or region, such as Tokyo, and pick it."))
        super().__init__(**kwargs)

    def to_python(self, value):
        """The zone's exact name, whatever the case; a city alone ("Tokyo", "new
        york") is the one zone named after it, when only one is."""
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        typed = value.lower().replace(" ", "_")
        exact = [name for name in zoneinfo.available_timezones() if name.lower() == typed]
        city = [name for name in time_zone_names() if name.lower().rsplit("/", 1)[-1] == typed]
        matches = exact or city
        return matches[0] if len(matches) == 1 else value

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values and value not in zoneinfo.available_timezones():
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value}
            )
