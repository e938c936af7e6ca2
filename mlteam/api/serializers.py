"""Shared serializer parts of the API."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
