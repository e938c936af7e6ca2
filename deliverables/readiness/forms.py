from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mlteam.forms import INTEGER_MAX, MultilineField

from .models import EVIDENCE_REQUIRED_MESSAGE, Mark


class RubricMarkForm(forms.Form):
    """One rubric item's mark with its evidence, saved on its own (htmx) or from the
    rubric's page. Each item's form has its own prefix, so a page holds many."""

    # The mark's version as drawn; 0 for an item nobody marked yet.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=INTEGER_MAX)
    mark = forms.ChoiceField(label=_("Mark"), choices=Mark.choices, widget=forms.RadioSelect)
    evidence_url = forms.URLField(
        label=_("Evidence link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    evidence_note = MultilineField(
        label=_("Evidence note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        mark = cleaned.get("mark")
        if (
            mark
            and mark != Mark.NOT_DONE
            and not cleaned.get("evidence_url")
            and not (cleaned.get("evidence_note") or "").strip()
            and "evidence_url" not in self.errors
        ):
            self.add_error("evidence_note", EVIDENCE_REQUIRED_MESSAGE)
        return cleaned

    @classmethod
    def for_item(cls, item, deliverable, data=None) -> RubricMarkForm:
        """The item's form, drawn from its mark as saved (`item.mark_row`)."""
        row = item.mark_row
        initial = {
            "version": row.version if row is not None else 0,
            "mark": row.mark if row is not None else Mark.NOT_DONE,
            "evidence_url": row.evidence_url if row is not None else "",
            "evidence_note": row.evidence_note if row is not None else "",
        }
        form = cls(data, initial=initial, prefix=f"item-{item.pk}")
        form.item = item
        return form
