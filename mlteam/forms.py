"""Form helpers shared by the apps' views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def form_add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal (stale version, archived project, ...) on the form."""
    for message in error.messages:
        form.add_error(None, message)
