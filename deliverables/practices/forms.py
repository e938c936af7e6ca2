from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mlteam.forms import DateField, EditFormMixin, VersionField

from ..models import AnswerKind
from .selectors import HANDBOOK_AREAS, PROJECT_QUESTIONS_LABEL


class ReviewDateForm(EditFormMixin, forms.Form):
    version = VersionField()
    review_on = DateField(
        label=_("Review the handbook by"),
        required=False,
        help_text=_("Leave empty for no review date."),
    )


def _area_choices():
    return [("", PROJECT_QUESTIONS_LABEL)] + [(area, _(area)) for area in HANDBOOK_AREAS]


class HandbookQuestionForm(forms.Form):
    area = forms.ChoiceField(label=_("Area"), choices=_area_choices, required=False)
    text = forms.CharField(label=_("Question"), max_length=300)
    answer_kind = forms.ChoiceField(
        label=_("Answered with"), choices=AnswerKind.choices, initial=AnswerKind.TEXT
    )
    required = forms.BooleanField(label=_("Required"), required=False, initial=False)

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write the question."))
        return text


class ConfirmForm(EditFormMixin, forms.Form):
    """The POST itself confirms; the page asks the question. Carries the version of
    what it changes, so a confirmation given on a stale page is refused."""

    version = VersionField()
