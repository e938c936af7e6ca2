from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mlteam.forms import INTEGER_MAX, BoundedModelChoiceField, MultilineField, VersionField

from .models import ANSWER_MAX_LENGTH


class CardSectionForm(forms.Form):
    """One section's answers: a markdown text per prompt (guiding question, or the
    section's free answer), saved together. Each section's form has its own prefix,
    so the card's page holds them all."""

    # The answers' version as drawn; 0 for a section nobody answered yet.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=INTEGER_MAX)

    def __init__(self, *args, section_view, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_view = section_view
        for prompt in section_view.prompts:
            label = prompt.question.display_text if prompt.question else _("Your answer")
            self.fields[f"answer_{prompt.key}"] = MultilineField(
                label=label,
                required=False,
                max_length=ANSWER_MAX_LENGTH,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    @classmethod
    def for_section(cls, section_view, data=None) -> CardSectionForm:
        """The section's form, drawn from its answers as saved."""
        initial = {"version": section_view.version}
        for prompt in section_view.prompts:
            initial[f"answer_{prompt.key}"] = prompt.answer
        return cls(
            data,
            initial=initial,
            prefix=f"section-{section_view.section.pk}",
            section_view=section_view,
        )

    def answers(self) -> dict[str, str]:
        return {
            prompt.key: self.cleaned_data.get(f"answer_{prompt.key}") or ""
            for prompt in self.section_view.prompts
        }

    def answer_fields(self):
        """(prompt, bound field) pairs, in the section's order."""
        return [(prompt, self[f"answer_{prompt.key}"]) for prompt in self.section_view.prompts]


class CardLinkForm(forms.Form):
    """What the card describes: a deliverable of its project the person may see."""

    version = VersionField()
    subject = BoundedModelChoiceField(
        label=_("Describes"),
        queryset=None,
        required=False,
        empty_label=_("Nothing yet"),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = choices
        self.fields["subject"].label_from_instance = lambda deliverable: deliverable.label


class CardReviewForm(forms.Form):
    version = VersionField()
