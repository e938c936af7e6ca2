"""Shared serializer parts of the API."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django import forms
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from mlteam.forms import _pk_in_range


class BodySerializer(serializers.Serializer):
    """A request body's shape. A field it does not know is a 400 naming it, not
    silently dropped: a script that sends `status` to an edit, or misspells a
    field, learns it at once instead of believing the change was made."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("This field is not accepted here.")] for name in unknown},
                    code="unknown_field",
                )
        return super().to_internal_value(data)


# --- references and query parameters --------------------------------------------------

WHOLE_NUMBER = _("Enter a whole number.")
_DIGITS = re.compile(r"^\s*[+-]?\d+\s*$")


def _whole_number(value) -> bool:
    """An id as JSON or a query string may carry it: an integer (not a boolean), or
    text made of digits."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_DIGITS.match(value)))


class WholeNumberField(serializers.IntegerField):
    """An integer, refused in the words the web's forms use."""

    default_error_messages = {"invalid": WHOLE_NUMBER}

    def to_internal_value(self, data):
        if not _whole_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReferenceField(serializers.PrimaryKeyRelatedField):
    """A row by its id. A value that is no id is "Enter a whole number."; an id of
    no row the caller may pick is `missing` ("No such person."), the same words
    whether the row does not exist or is not one on offer, so the answer reveals
    nothing. Ids the database cannot hold are refused before querying."""

    def __init__(self, *, missing, **kwargs):
        super().__init__(**kwargs)
        self.error_messages["incorrect_type"] = WHOLE_NUMBER
        self.error_messages["does_not_exist"] = missing

    def to_internal_value(self, data):
        if not _whole_number(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not _pk_in_range(self.get_queryset().model, data):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class QueryBooleanField(serializers.Field):
    """A yes/no query parameter: `true`/`false` or `1`/`0`, in any case. Anything
    else is refused (a web list's checkbox reads any value as on; a script that
    sends `overdue=false` means no)."""

    default_error_messages = {"invalid": _("Use true or false (or 1 or 0).")}
    _WORDS = {"true": True, "1": True, "false": False, "0": False}

    def to_internal_value(self, data):
        value = self._WORDS.get(str(data).strip().lower())
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value):
        return bool(value)


def form_query(form_class, query_params) -> QueryDict:
    """A web list's query parameters, read by the API as the list's own form reads
    them, once their types are checked at the API's edge.

    The form stays the one definition of the filters (choices, ranges, what the
    caller may pick); only the way a value is written differs: a checkbox is "on"
    or absent, an API's boolean is true/false/1/0, so every boolean field is read
    strictly and handed to the form as a checkbox; every integer and choice of a
    row by id must be a whole number ("Enter a whole number.", not a choice
    refused). An empty value is an absent one, as on the page."""
    fields = {}
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.BooleanField):
            fields[name] = QueryBooleanField(required=False)
        elif isinstance(field, forms.IntegerField) or (
            isinstance(field, forms.ModelChoiceField)
            and not isinstance(field, forms.ModelMultipleChoiceField)
        ):
            fields[name] = WholeNumberField(required=False)
    checker = type("QueryParameters", (serializers.Serializer,), fields)(data=query_params)
    checker.is_valid(raise_exception=True)
    data = query_params.copy()
    for name, value in checker.validated_data.items():
        data[name] = ("on" if value else "") if isinstance(value, bool) else str(value)
    return data


def _no_such(model) -> str:
    if model is get_user_model():
        return gettext("No such person.")
    return gettext("No such %(thing)s.") % {"thing": model._meta.verbose_name}


# What the API says of an id that names no row the caller may pick, in the
# reader's language (lazy: field declarations are made once, at import).
no_such = lazy(_no_such, str)


def _api_message(field, error, message: str) -> str:
    """A form's message as the API words it: a choice of a row that a web page
    words for its drop-down ("Select a valid choice…") is "No such person." here;
    a form's own wording (a custom message) is kept."""
    if (
        error.code == "invalid_choice"
        and isinstance(field, forms.ModelChoiceField)
        and field.error_messages.get("invalid_choice")
        == forms.ModelChoiceField.default_error_messages["invalid_choice"]
    ):
        return str(no_such(field.queryset.model))
    return message


def form_errors(form, names: dict[str, str] | None = None) -> serializers.ValidationError:
    """A web form's errors as the API's field errors (`names`: the API's name of a
    field the form names otherwise)."""
    names = names or {}
    detail: dict[str, list] = {}
    for name, errors in form.errors.as_data().items():
        key = "non_field_errors" if name == "__all__" else names.get(name, name)
        field = form.fields.get(name)
        detail.setdefault(key, []).extend(
            ErrorDetail(_api_message(field, error, message), code=error.code or "invalid")
            for error in errors
            for message in error.messages
        )
    return serializers.ValidationError(detail)
