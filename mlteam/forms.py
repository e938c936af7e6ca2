"""Form helpers shared by the apps' views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


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
