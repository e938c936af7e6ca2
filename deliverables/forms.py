from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mlteam.forms import (
    INTEGER_MAX,
    BoundedModelChoiceField,
    DateField,
    EditFormMixin,
    FieldTemplateBoundField,
    MultilineField,
    QueryForm,
    SearchField,
    TimeZoneField,
    VersionField,
)
from roles.forms import (
    LazyPersonChoiceField,
    PersonChoiceField,
    PlainSelect,
    RowChoiceIterator,
    person_label,
)
from roles.models import Project, Role

from .links import parse_link
from .models import (
    DONE_LOCKED_MESSAGE,
    WEEKDAYS,
    AnswerKind,
    DeliverableStatus,
    DeliverableType,
    LinkKind,
    ReminderPreference,
    WorkView,
    format_working_days,
    parse_working_days,
)


class TransitionForm(EditFormMixin, forms.Form):
    version = VersionField()
    to_status = forms.ChoiceField(choices=DeliverableStatus.choices)
    reason = MultilineField(
        label=_("Reason, if you mark it blocked"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    override_reason = MultilineField(
        label=_("Reason to mark done with required items open"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class InlineEditForm(EditFormMixin, forms.Form):
    """One field of a list row changed in place by a manager: the owner or the due
    date (`field` says which; the other is left as saved). An edit form: its one
    field is the change, checked against the row's version."""

    version = VersionField()
    field = forms.ChoiceField(choices=[("owner", "owner"), ("due_date", "due_date")])
    owner = PersonChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_date = DateField(label=_("Due date"), required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "The owner must be a member of the project."
        )


class WorkViewForm(forms.Form):
    """List or board, chosen on My work or on a project's work (`project`)."""

    view = forms.ChoiceField(choices=WorkView.choices)
    project = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class CancelForm(EditFormMixin, forms.Form):
    """Cancel a deliverable (the project's managers): it leaves the plan and the open
    work, and keeps its history; the reason is recorded with the move."""

    version = VersionField()
    reason = MultilineField(
        label=_("Why is it cancelled?"),
        help_text=_("Kept in the deliverable's history, for the team and for later."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say why the deliverable is cancelled.")},
    )


OWN_TITLE_HELP = _(
    "Optional. The deliverable is named by its type; add a title only to tell it apart, "
    "such as “Churn model v2”."
)


def description_field() -> MultilineField:
    """A deliverable's own description, as adding and editing one ask for it."""
    return MultilineField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("Optional. What is expected, for work the type does not describe."),
    )


class DeliverableEditForm(EditFormMixin, forms.Form):
    version = VersionField()
    title = forms.CharField(
        label=_("Own title"), max_length=200, required=False, help_text=OWN_TITLE_HELP
    )
    description = description_field()
    type = BoundedModelChoiceField(
        label=_("Type"), queryset=DeliverableType.objects.select_related("role")
    )
    owner = PersonChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_date = DateField(label=_("Due date"), required=False)
    confirm_type_change = forms.BooleanField(
        label=_("Yes, change the type and replace the checklist"), required=False
    )

    def __init__(self, *args, owners, deliverable=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.deliverable = deliverable
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = _("Nobody yet")
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "The owner must be a member of the project."
        )
        self.fields["type"].label_from_instance = lambda t: (
            f"{t.display_name} ({t.role.display_name})"
        )
        # A done deliverable keeps its approved type: drawn fixed, not offered.
        self.type_locked = deliverable is not None and deliverable.checklist_locked
        if self.type_locked:
            self.fields["type"].disabled = True
            self.fields["confirm_type_change"].disabled = True

    def clean(self):
        """Changing the type drops answers its checklist has no item for: ask first.

        A fixed type takes its current value whatever was sent; a different one sent
        anyway (not by this page) is refused, not silently ignored."""
        cleaned = super().clean()
        deliverable = self.deliverable
        if self.type_locked:
            sent = self.data.get(self.add_prefix("type"))
            if sent not in (None, "") and sent != str(deliverable.type_id):
                raise forms.ValidationError(DONE_LOCKED_MESSAGE, code="done")
            return cleaned
        new_type = cleaned.get("type")
        if deliverable is not None and new_type is not None and new_type.pk != deliverable.type_id:
            kept = set(new_type.checklist_items.values_list("text", flat=True))
            lost = [
                item
                for item in deliverable.checklist_items.all()
                if item.is_complete and item.text not in kept
            ]
            if lost and not cleaned.get("confirm_type_change"):
                self.add_error(
                    "confirm_type_change",
                    _(
                        "The new type has its own checklist: %(count)s answers given so far "
                        "would be dropped. Tick to confirm."
                    )
                    % {"count": len(lost)},
                )
        return cleaned


class DeliverableAddForm(forms.Form):
    """A deliverable added by hand (`services.deliverable_add`): any type of the
    catalogue, "Other" included, with an optional own title and description."""

    type = BoundedModelChoiceField(
        label=_("Type"), queryset=DeliverableType.objects.select_related("role")
    )
    title = forms.CharField(
        label=_("Own title"),
        max_length=200,
        required=False,
        help_text=_("Optional, except for the type “Other”: then it says what the work is."),
    )
    description = description_field()
    owner = PersonChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_date = DateField(label=_("Due date"), required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["owner"].empty_label = _("Nobody yet")
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "The owner must be a member of the project."
        )
        self.fields["type"].label_from_instance = lambda t: (
            f"{t.display_name} ({t.role.display_name})"
        )


class LinkForm(forms.Form):
    """A new link. The address is read by `deliverables.links.parse_link`: its kind
    detected when none is chosen, a chosen kind's format checked."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Detect from the address")), *LinkKind.choices],
        required=False,
    )
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_(
            "A web address, or an MLflow model as models:/name/version or models:/name@alias."
        ),
    )
    label = forms.CharField(label=_("Label"), max_length=120, required=False)

    def clean(self):
        data = super().clean()
        if "url" in data and "kind" in data:
            try:
                parsed = parse_link(data["kind"], data["url"])
            except ValidationError as error:
                self.add_error("url", error)
            else:
                data["kind"], data["url"] = parsed.kind, parsed.url
        return data


class CommentForm(forms.Form):
    body = MultilineField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class CommentQueryForm(QueryForm):
    """Which comment a form on the deliverable page is about (`comment`, and the
    `version` it was drawn at), or which one the page draws as a form
    (`?edit_comment=`). Ids the database cannot hold read as none."""

    comment = forms.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX)
    edit_comment = forms.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX)
    version = forms.IntegerField(required=False, min_value=1, max_value=INTEGER_MAX)


class CommentEditForm(EditFormMixin, forms.Form):
    """The author rewrites their comment (checked against the comment's version)."""

    version = VersionField()
    body = MultilineField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class ChecklistForm(EditFormMixin, forms.Form):
    """One field per checklist item, by its kind: a tick, a written answer or a link."""

    version = VersionField()

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            name = f"item_{item.pk}"
            label = item.display_text
            if item.answer_kind == AnswerKind.TICK:
                self.fields[name] = forms.BooleanField(
                    label=label, required=False, initial=item.checked
                )
            elif item.answer_kind == AnswerKind.TEXT:
                self.fields[name] = MultilineField(
                    label=label,
                    required=False,
                    initial=item.answer,
                    max_length=10000,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
            else:
                self.fields[name] = forms.URLField(
                    label=label,
                    required=False,
                    initial=item.link,
                    max_length=500,
                    assume_scheme="https",
                )
            item.field_name = name

    def bound_items(self):
        """(item, bound field) pairs in checklist order, for the template."""
        return [(item, self[item.field_name]) for item in self.items]


class PlanRowForm(forms.Form):
    include = forms.BooleanField(label=_("Plan"), required=False)
    type = BoundedModelChoiceField(queryset=DeliverableType.objects.all(), widget=forms.HiddenInput)
    title = forms.CharField(
        label=_("Own title"), max_length=200, required=False, help_text=OWN_TITLE_HELP
    )
    owner = PersonChoiceField(
        label=_("Owner"), queryset=get_user_model().objects.none(), required=False
    )
    due_date = DateField(label=_("Due date"), required=False)

    def __init__(self, *args, owners=None, types=None, **kwargs):
        super().__init__(*args, **kwargs)
        if types is not None:
            self.fields["type"].queryset = DeliverableType.objects.filter(pk__in=types)
        if owners is not None:
            owner_ids = [u.pk for u in owners]
            self.fields["owner"].queryset = get_user_model().objects.filter(pk__in=owner_ids)
            # One query for the choices, shared by every row of the formset.
            self.fields["owner"].choices = [("", _("Nobody yet"))] + [
                (u.pk, person_label(u)) for u in owners
            ]
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "The owner must be a member of the project."
        )


class BasePlanFormSet(forms.BaseFormSet):
    """The proposal's rows only: at most one per proposed type, no extra rows."""

    def __init__(self, *args, owners, types, **kwargs):
        self.owners = owners
        self.types = types
        self.max_num = self.absolute_max = len(types)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "owners": self.owners, "types": self.types}

    def clean(self):
        super().clean()
        chosen = [form.cleaned_data.get("type") for form in self.forms if form.cleaned_data]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError(_("Each deliverable type can be planned once."))


class PlanQueryForm(QueryForm):
    """The plan page's address: `?cancelled=1` proposes again the types whose
    deliverables were cancelled."""

    cancelled = forms.BooleanField(required=False)


class PlanVersionForm(EditFormMixin, forms.Form):
    """The project version the plan was proposed from (outside the formset's rows)."""

    version = VersionField()


PlanFormSet = forms.formset_factory(
    PlanRowForm,
    formset=BasePlanFormSet,
    extra=0,
    validate_max=True,
    max_num=1000,
    absolute_max=1000,
)


# The status filter's choice for open work: neither done nor cancelled (the dashboards'
# "open" work, `DeliverableQuerySet.open`).
OPEN = "open"


class ProjectChoiceIterator(forms.models.ModelChoiceIterator):
    """(pk, name) from two columns (a project's label is its name, `Project.__str__`),
    without building a project per choice: the admin's ~230 projects cost ~1 ms as
    model instances (bench/pages.py, 50,000 deliverables)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list("pk", "name")


# Bootstrap's class for each kind of filter widget (what crispy's field template added).
_WIDGET_CLASSES = {"select": "form-select", "checkbox": "form-check-input"}


class DeliverableFilterForm(QueryForm):
    q = SearchField()
    project = BoundedModelChoiceField(
        label=_("Project"), required=False, queryset=Project.objects.none(), widget=PlainSelect
    )
    role = BoundedModelChoiceField(
        label=_("Role"),
        required=False,
        queryset=Role.objects.only("pk", "name").order_by("position"),
        widget=PlainSelect,
    )
    type = BoundedModelChoiceField(
        label=_("Type"),
        required=False,
        queryset=DeliverableType.objects.only("pk", "name"),
        widget=PlainSelect,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Any status")),
            (OPEN, _("Open (not done or cancelled)")),
            *DeliverableStatus.choices,
        ],
        widget=PlainSelect,
    )
    owner = LazyPersonChoiceField(
        label=_("Owner"), required=False, queryset=get_user_model().objects.none()
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    due_within = forms.IntegerField(
        label=_("Due within (days)"), required=False, min_value=0, max_value=3650
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("due", _("Due date")),
            ("-due", _("Due date, latest first")),
            ("title", _("Deliverable")),  # by its name: type, then own title
            ("project", _("Project")),
            ("status", _("Status")),
            ("owner", _("Owner")),
            ("updated", _("Recently updated")),
        ],
        widget=PlainSelect,
    )

    bound_field_class = FieldTemplateBoundField  # drawn with templates/_field.html

    def __init__(self, *args, projects, owners, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if not widget.is_hidden:
                kind = "select" if isinstance(widget, forms.Select) else widget.input_type
                widget.attrs["class"] = _WIDGET_CLASSES.get(kind, "form-control")
        self.fields["project"].iterator = ProjectChoiceIterator
        for name in ("role", "type"):
            self.fields[name].iterator = RowChoiceIterator
        self.fields["project"].queryset = projects
        self.fields["role"].queryset = self.fields["role"].queryset  # its widget's iterator
        self.fields["type"].queryset = self.fields["type"].queryset
        self.fields["owner"].queryset = owners
        self.fields["owner"].widget.options_url = reverse("deliverables:owner_options")
        self.fields["role"].label_from_instance = lambda r: r.display_name
        self.fields["type"].label_from_instance = lambda t: t.display_name
        self.fields["role"].empty_label = _("Any role")
        self.fields["type"].empty_label = _("Any type")
        self.fields["project"].empty_label = _("Any project")
        self.fields["owner"].empty_label = _("Anyone")


class WorkingDaysField(forms.TypedMultipleChoiceField):
    """Working days as boxes to tick, stored as text ("0,1,2,3,4", Monday is 0).

    Converts both ways: the stored text is drawn as ticked boxes (`prepare_value`),
    and the ticked boxes are cleaned back into the stored text (`clean`), so a form
    shows what is saved and an untouched form saves the same days again.
    """

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Working days"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Digests come on these days only."))
        kwargs.pop("max_length", None)  # from the model's text field
        kwargs.pop("empty_value", None)
        super().__init__(choices=WEEKDAYS, coerce=int, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            return parse_working_days(value)
        return value

    def clean(self, value) -> str:
        return format_working_days(super().clean(value))

    def has_changed(self, initial, data) -> bool:
        try:
            initial_days = {int(day) for day in self.prepare_value(initial or [])}
            data_days = {int(day) for day in data or []}
        except (TypeError, ValueError):
            return True
        return initial_days != data_days


class ReminderPreferenceForm(EditFormMixin, forms.ModelForm):
    version = VersionField()
    working_days = WorkingDaysField()
    time_zone = TimeZoneField(label=_("Time zone"))
    hour = forms.TypedChoiceField(
        label=_("Send at"), coerce=int, choices=[(h, f"{h:02d}:00") for h in range(24)]
    )
    paused_until = DateField(
        label=_("Pause until"),
        required=False,
        help_text=_("No digest up to and including this day. Leave empty to receive them."),
    )

    class Meta:
        model = ReminderPreference
        fields = ["hour", "time_zone", "working_days", "due_soon_days", "paused_until", "language"]

    def __init__(self, *args, **kwargs):
        # An edit form: a save changes only what the person changed (`changes()`),
        # not what someone else changed meanwhile.
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", self.instance.version)
        self.fields["due_soon_days"].validators.append(MaxValueValidator(31))
        self.fields["due_soon_days"].widget.attrs.update({"min": 0, "max": 31})
