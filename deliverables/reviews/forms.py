from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from mlteam.forms import (
    BoundedModelMultipleChoiceField,
    DateField,
    EditFormMixin,
    MultilineField,
    VersionField,
)

from .models import Rating

MAX_TEXT = 20000
CYCLE_FIRST, CYCLE_LAST = date(2000, 1, 1), date(2100, 12, 31)
MARKDOWN_HELP = _("Markdown works: **bold**, lists, [links](https://example.com).")


class CycleForm(EditFormMixin, forms.Form):
    version = VersionField(required=False)  # none when creating
    name = forms.CharField(label=_("Name"), max_length=120)
    start_date = DateField(label=_("Start date"), first=CYCLE_FIRST, last=CYCLE_LAST)
    end_date = DateField(label=_("End date"), first=CYCLE_FIRST, last=CYCLE_LAST)
    expectations_due_days = forms.IntegerField(
        label=_("Expectations due after (days)"),
        min_value=0,
        max_value=365,
        initial=14,
        help_text=_(
            "A person still without expectations this many days into the cycle is "
            "mentioned in their manager's reminder digest."
        ),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The cycle cannot end before it starts."))
        return data


class ExpectationsForm(EditFormMixin, forms.Form):
    version = VersionField(required=False)
    expectations = MultilineField(
        label=_("What you expect"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HELP,
    )
    deliverables = BoundedModelMultipleChoiceField(
        label=_("Linked deliverables"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Deliverables this person owns on projects you manage."),
    )

    def __init__(self, *args, deliverables, require_version=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = require_version
        field = self.fields["deliverables"]
        field.queryset = deliverables
        field.label_from_instance = lambda d: f"{d.label} ({d.project.name})"

    def clean_expectations(self):
        text = self.cleaned_data["expectations"]
        if not text.strip():
            raise forms.ValidationError(_("Write what you expect."))
        return text


def _rating_field(label):
    return forms.TypedChoiceField(
        label=label,
        choices=[("", _("Not rated yet")), *Rating.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class EvaluationForm(EditFormMixin, forms.Form):
    version = VersionField()
    quality_code = _rating_field(_("Quality of code"))
    quality_documentation = _rating_field(_("Quality of documentation"))
    quality_collaboration = _rating_field(_("Collaboration"))
    expectations_met = _rating_field(_("Meeting the agreed expectations"))
    evaluation_comment = MultilineField(
        label=_("Comment on the quality of the work"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )
    project_outcome = MultilineField(
        label=_("How the project turned out (context only)"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Recorded for context. It is not part of the rating: people are rated on the "
            "quality of their work and on the expectations agreed, not on whether the "
            "project succeeded."
        ),
    )


class SelfAssessmentForm(EditFormMixin, forms.Form):
    version = VersionField()
    self_assessment = MultilineField(
        label=_("Your self-assessment"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=MARKDOWN_HELP,
    )


class AcknowledgeForm(EditFormMixin, forms.Form):
    version = VersionField()
