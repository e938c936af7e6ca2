"""Form helpers shared by the apps' views."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.forms.boundfield import BoundField
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mlteam.dates import format_day


def form_add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal (stale version, archived project, ...) on the form."""
    for message in error.messages:
        form.add_error(None, message)


# --- edit forms: the version and the values a form was drawn with -----------------------


WRITE_ONLY_RETYPE = _(
    "Nothing was saved, so this was not kept: type it again (a secret is never sent "
    "back to the page)."
)


class WriteOnlySecrets:
    """A form with secret fields that are never drawn back (a token, a client
    secret): when the form comes back with errors, each secret that was typed is
    marked to be typed again, rather than dropped without a word (its help text
    says an empty field keeps the stored one). `write_only`: those fields' names."""

    write_only: tuple[str, ...] = ()

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        for name in self.write_only:
            if self.data.get(self.add_prefix(name)) and name not in self._errors:
                self.add_error(name, ValidationError(WRITE_ONLY_RETYPE, code="retype"))


@dataclass(frozen=True)
class Meanwhile:
    """A field someone else changed after the form was drawn (see `form_reoffer`)."""

    now: str  # the value saved meanwhile, as a person reads it
    collides: bool  # the person changed it too, to something else: theirs is offered

    def __str__(self) -> str:
        if self.collides:
            return gettext(
                "Someone else changed this meanwhile to: %(value)s. Your change is kept "
                "here; check it before saving."
            ) % {"value": self.now}
        return gettext("Changed by someone else meanwhile: now %(value)s.") % {"value": self.now}


class MarksInvalid:
    """A bound field drawn by templates/_field.html, the site's own field template
    (label, widget, errors, help text), used where a page draws many fields: the
    team panel's two dozen, the list's filter bar; crispy's field template took
    ~0.25-0.3 ms a field there. As crispy does, the widget of a field with errors
    gets Bootstrap's `is-invalid` class (the widgets carry their other classes)."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if not widget.is_hidden and self.errors:
            attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".lstrip()
        return attrs


class FieldTemplateBoundField(MarksInvalid, BoundField):
    """A field of a form drawn with templates/_field.html (see MarksInvalid)."""


NOT_DRAWN = object()  # DrawnBoundField.drawn_value: the page sent no drawn value


class DrawnBoundField(BoundField):
    """A field of an edit form. Its drawn value goes out with the form's others
    (`EditFormMixin.drawn`), not after its widget: crispy and hand-written inputs
    alike would otherwise draw it for some fields and not others."""

    def __init__(self, form, field, name):
        # Every field but the version carries its drawn value. Set here rather than
        # in the form's __init__, so that fields a form adds later (one per checklist
        # item) carry theirs too.
        field.show_hidden_initial = not isinstance(field, VersionField)
        super().__init__(form, field, name)

    def __str__(self):
        return self.as_widget()

    __html__ = __str__

    @property
    def meanwhile(self) -> Meanwhile | None:
        return self.form.meanwhile.get(self.name)

    def drawn_value(self):
        """The field's value as the page drew it (its hidden "as drawn" input, cleaned
        by the field), or NOT_DRAWN when the page sent none or one the field refuses."""
        widget = self.field.hidden_widget()
        if widget.value_omitted_from_data(self.form.data, self.form.files, self.html_initial_name):
            return NOT_DRAWN
        raw = widget.value_from_datadict(self.form.data, self.form.files, self.html_initial_name)
        try:
            return self.field.to_python(raw)
        except ValidationError:
            return NOT_DRAWN

    def drawn_input(self) -> SafeString:
        """This field's hidden "as drawn" input alone (`EditFormMixin.drawn` sends
        every field's), for a page that draws and swaps a form field by field."""
        widget = self.field.hidden_widget()
        if self.form.is_bound:
            value = widget.value_from_datadict(
                self.form.data, self.form.files, self.html_initial_name
            )
        else:
            value = self.value()
        return widget.render(self.html_initial_name, value, renderer=self.form.renderer)


class EditFormMixin:
    """The base of every form that changes something that exists.

    Besides the version (a `VersionField`), the page carries the value of every
    field as it was drawn (`show_hidden_initial`, sent by `{{ form.drawn }}`), so
    `changed_data` is what this person changed, not what differs from the database
    now. That is what lets a refused form be offered again over the current values
    (`form_reoffer`), and a save touch only the person's changes (`changes`).
    """

    bound_field_class = DrawnBoundField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.meanwhile: dict[str, Meanwhile] = {}

    def drawn(self) -> SafeString:
        """Hidden inputs with the value of every field as the page was drawn: the
        form's initial values, or, once submitted, the ones the page was drawn with
        (never the person's input, which a page shown again would otherwise take as
        the starting point)."""
        inputs = [bound.drawn_input() for bound in self if bound.field.show_hidden_initial]
        return mark_safe("".join(inputs))  # noqa: S308 (rendered by widgets, which escape)

    def changes(self) -> dict[str, object]:
        """The fields the person changed on this form, cleaned, by name."""
        return {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if not isinstance(self.fields[name], VersionField)
        }

    def meanwhile_summary(self) -> str:
        """One line naming the fields someone else changed meanwhile (if any)."""
        if not self.meanwhile:
            return ""
        labels = [str(self[name].label) for name in self.meanwhile]
        return gettext("Changed by someone else meanwhile: %(fields)s.") % {
            "fields": gettext(", ").join(labels)
        }


def _raw(field: forms.Field, value) -> list[str]:
    """`value` as a page submits it (the field's hidden input): what the field
    reads back as `value`."""
    formatted = field.hidden_widget().format_value(field.prepare_value(value))
    if formatted is None or formatted == "":
        return []
    if isinstance(formatted, list | tuple):
        return [str(item) for item in formatted]
    return [str(formatted)]


def _sent(form: forms.BaseForm, name: str) -> list[str]:
    html_name = form.add_prefix(name)
    data = form.data
    if hasattr(data, "getlist"):
        return list(data.getlist(html_name))
    value = data.get(html_name)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def _readable(field: forms.Field, value) -> str:
    """A value as the person reads it on the page: a choice's label, a formatted day."""
    if isinstance(field, forms.BooleanField):
        return gettext("ticked") if value else gettext("not ticked")
    if value in (None, "", [], ()):
        return gettext("empty")
    if isinstance(field, forms.ModelChoiceField):
        keys = field.prepare_value(value)
        keys = keys if isinstance(keys, list | tuple) else [keys]
        rows = field.queryset.filter(pk__in=keys) if field.to_field_name is None else []
        labels = [field.label_from_instance(row) for row in rows]
        return gettext(", ").join(labels) or gettext("empty")
    if isinstance(field, forms.ChoiceField):
        labels = {}
        for key, label in field.choices:
            if isinstance(label, list | tuple):  # a group of choices
                labels.update({str(k): v for k, v in label})
            else:
                labels[str(key)] = label
        keys = field.prepare_value(value)
        keys = keys if isinstance(keys, list | tuple) else [keys]
        return gettext(", ").join(str(labels.get(str(key), key)) for key in keys)
    if isinstance(value, date):
        return format_day(value)
    return Truncator(str(value)).chars(120)


FormT = TypeVar("FormT", bound=forms.BaseForm)


def form_reoffer(refused: forms.BaseForm, fresh: FormT, error: ValidationError) -> FormT:
    """The form to show after a service refused `refused` (a stale version, say).

    `fresh` is the same form drawn from the record as it is now, unbound (what the
    page would show on a new visit). It comes back bound to:
    1. for every field the person changed, their value;
    2. for every other field, the value saved now (so saving again does not undo
       what someone else changed meanwhile);
    3. the current version, and the current values as the ones it was drawn with,
       so a second save is checked against now, and the person's changes still
       count as theirs;
    4. `meanwhile`: the fields whose value differs from what the person was shown,
       each noted next to the field (and named in `meanwhile_summary`), marked
       where the person's own change collides with it;
    5. the refusal's messages as the form's errors; nothing else is validated, so
       no field shows an error the person has not caused.
    """
    if not (isinstance(refused, EditFormMixin) and isinstance(fresh, EditFormMixin)):
        raise TypeError("form_reoffer needs edit forms (EditFormMixin)")
    mine = set(refused.changed_data)
    data = QueryDict(mutable=True)
    meanwhile: dict[str, Meanwhile] = {}
    for name, field in fresh.fields.items():
        current = fresh[name].initial
        now = _raw(field, current)
        if not field.show_hidden_initial:  # the version
            data.setlist(fresh.add_prefix(name), now)
            continue
        data.setlist(fresh.add_initial_prefix(name), now)
        theirs = name in refused.fields
        changed_by_me = theirs and name in mine
        data.setlist(fresh.add_prefix(name), _sent(refused, name) if changed_by_me else now)
        if not theirs or field.disabled:
            continue
        before = refused[name]
        drawn = refused._widget_data_value(field.hidden_widget(), before.html_initial_name)
        if not field.has_changed(current, drawn):
            continue  # nobody else changed it
        collides = changed_by_me and field.has_changed(current, before.data)
        if changed_by_me and not collides:
            continue  # both made the same change
        meanwhile[name] = Meanwhile(now=_readable(field, current), collides=collides)
    fresh.is_bound = True
    fresh.data = data
    fresh._bound_fields_cache = {}
    fresh.meanwhile = meanwhile
    for name, note in meanwhile.items():
        field = fresh.fields[name]
        if field.help_text:
            field.help_text = format_html(
                '<span class="meanwhile">{}</span> {}', str(note), field.help_text
            )
        else:
            field.help_text = format_html('<span class="meanwhile">{}</span>', str(note))
    fresh._errors = ErrorDict(renderer=fresh.renderer)
    fresh.cleaned_data = {}
    form_add_service_errors(fresh, error)
    return fresh


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
