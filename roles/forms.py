from __future__ import annotations

import html
from collections.abc import Iterable

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from mlteam.forms import (
    BoundedModelChoiceField,
    BoundedModelMultipleChoiceField,
    DateField,
    DrawnBoundField,
    EditFormMixin,
    MarksInvalid,
    MultilineField,
    QueryForm,
    SearchField,
    VersionField,
)
from mlteam.people import FORMER_MEMBER, is_anonymised_name

from .models import Project, ProjectStatus, Role, RoleAssignment
from .selectors import PROJECT_SORTS, team_candidates


def person_label(user) -> str:
    return _label(user.get_username(), user.first_name, user.last_name)


def _label(username: str, first_name: str, last_name: str) -> str:
    """A person in a choice list: "Full Name (username)", the username alone when
    there is no name, and "Former member" for an anonymised account (its username
    is a placeholder, `mlteam.people`)."""
    if is_anonymised_name(username):
        return str(FORMER_MEMBER)
    name = f"{first_name} {last_name}".strip()  # as User.get_full_name
    return f"{name} ({username})" if name else username


def _flat_attrs(attrs: dict) -> str:
    """Django's widgets/attrs.html, in Python."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class _Optgroups(Exception):
    """Choices grouped under headings: drawn by Django's own template."""


def options_html(choices: Iterable, wanted: set[str]) -> str:
    """The `<option>`s of `choices` ((value, label) pairs), the first whose value is
    in `wanted` selected, as Django's select_option.html writes them."""
    escape = html.escape
    options = []
    append = options.append
    for option_value, label in choices:
        if label.__class__ is not str:
            if isinstance(label, (list, tuple)):
                raise _Optgroups
            label = str(label)
        # html.escape is what django.utils.html.escape applies, without its lazy
        # wrapper's cost (4,000 calls for 2,000 people); an id needs none.
        if option_value.__class__ is int:
            text = html_value = str(option_value)
        else:
            text = "" if option_value is None else str(option_value)
            html_value = escape(text)
        if wanted and text in wanted:
            wanted = ()  # like Select: only the first match is selected
            append(f'\n  <option value="{html_value}" selected>{escape(label)}</option>')
        else:
            append(f'\n  <option value="{html_value}">{escape(label)}</option>')
    return "".join(options)


class PlainSelect(forms.Select):
    """The same HTML as `forms.Select`, written in Python instead of one template
    include (and one option dict) per choice: 2,000 people in ~15 ms, not ~150 ms."""

    def render(self, name, value, attrs=None, renderer=None):
        # One query for a model field's choices (list(self.choices) would also count).
        try:
            options = options_html(iter(self.choices), set(self.format_value(value)))
        except _Optgroups:
            return super().render(name, value, attrs, renderer)
        return self.select_html(name, attrs, options)

    def select_html(self, name, attrs, options: str) -> str:
        attrs = self.build_attrs(self.attrs, attrs)
        head = format_html('<select name="{}"', name) + _flat_attrs(attrs)
        return mark_safe(f"{head}>{options}\n</select>")  # noqa: S308 (escaped in options_html)


class PlainInput:
    """An `<input>` widget with the HTML of Django's input.html, written in Python
    like `PlainSelect`: the team panel draws ~70 inputs (most of them the hidden
    version and values-as-drawn of a form per member), ~0.1 ms each through the
    widget templates."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = widget["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            name,
            "" if value is None else format_html(' value="{}"', value),
            mark_safe(_flat_attrs(widget["attrs"])),  # noqa: S308 (escaped there)
        )


class PlainHiddenInput(PlainInput, forms.HiddenInput):
    pass


class PlainNumberInput(PlainInput, forms.NumberInput):
    pass


class PlainTextInput(PlainInput, forms.TextInput):
    pass


class PlainEmailInput(PlainInput, forms.EmailInput):
    pass


class RowChoiceIterator(forms.models.ModelChoiceIterator):
    """Django's ModelChoiceIterator, reading its rows in one plain SELECT: Django's
    streams them through a server-side cursor, three round trips (DECLARE, FETCH,
    CLOSE) on PostgreSQL for a choice list of a few rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class PersonChoiceIterator(forms.models.ModelChoiceIterator):
    """(pk, `person_label`) from four columns, without building a user per choice."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.people(self.queryset)

    @staticmethod
    def people(rows) -> Iterable[tuple[int, str]]:
        for pk, username, first_name, last_name in rows.values_list(
            "pk", "username", "first_name", "last_name"
        ):
            yield (pk, _label(username, first_name, last_name))

    def head(self, count: int) -> list[tuple] | None:
        """The choices when there are at most `count` people (one query), else None."""
        people = list(self.people(self.queryset[: count + 1]))
        if len(people) > count:
            return None
        empty = [] if self.field.empty_label is None else [("", self.field.empty_label)]
        return empty + people

    def chosen(self, value) -> list[tuple]:
        """The empty choice and the person `value` names, if it names one."""
        empty = [] if self.field.empty_label is None else [("", self.field.empty_label)]
        text = str(value or "")
        if not (text.isascii() and text.isdigit()):
            return empty
        return empty + list(self.people(self.queryset.filter(pk=int(text))))


class PersonChoiceField(BoundedModelChoiceField):
    widget = PlainSelect
    iterator = PersonChoiceIterator

    def label_from_instance(self, obj) -> str:
        return person_label(obj)


# A filter by person lists at most this many people in the page itself.
INLINE_PEOPLE = 200


class LazyPersonSelect(PlainSelect):
    """A person filter over a directory that may be large (an admin sees every
    person: 2,000 on the benchmark's data, a seventh of the deliverables list's
    time and 100 kB of its page). Up to INLINE_PEOPLE people are drawn as usual;
    past that the page carries the empty choice and the chosen person only, and
    `data-options-url` (the form's `options_url`, answered by `all_options`) gives
    the whole list, which static/js/mlteam.js fetches the first time the pointer
    or the keyboard focus enters the form. Choosing and validating are unchanged:
    the field's queryset is the whole directory either way."""

    options_url = ""

    def render(self, name, value, attrs=None, renderer=None):
        iterator = self.choices
        wanted = set(self.format_value(value))
        choices = iterator.head(INLINE_PEOPLE)
        attrs = dict(attrs or {})
        if choices is None:
            choices = iterator.chosen(next(iter(wanted), ""))
            attrs["data-options-url"] = self.options_url
        return self.select_html(name, attrs, options_html(choices, wanted))

    def all_options(self, value) -> str:
        """Every choice as `<option>`s, `value` selected."""
        return options_html(iter(self.choices), set(self.format_value(value)))


class LazyPersonChoiceField(PersonChoiceField):
    widget = LazyPersonSelect


class PeopleChoiceField(BoundedModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class VersionedForm(EditFormMixin, forms.Form):
    """Carries the project version the page was drawn from (see services._claim_version)
    and the values of its fields as drawn."""

    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        # The version and the values as drawn: hidden inputs, several per team member.
        for field in self.fields.values():
            if field.hidden_widget is forms.HiddenInput:  # not MultipleHiddenInput
                field.hidden_widget = PlainHiddenInput
        version = self.fields["version"]
        version.widget = PlainHiddenInput(version.widget.attrs)


class ProjectForm(VersionedForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    business_problem = MultilineField(
        label=_("Business problem"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the business gains when this project succeeds."),
    )
    managers = PeopleChoiceField(
        label=_("Managers"),
        queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Managers can change the project and its team."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=ProjectStatus.choices)
    start_date = DateField(label=_("Start date"), required=False)
    target_date = DateField(label=_("Target date"), required=False)
    escalation_days = forms.IntegerField(
        label=_("Escalate after (days overdue)"),
        required=False,
        min_value=0,
        max_value=365,
        initial=3,
        help_text=_("Work overdue longer than this also goes into the managers' daily digest."),
    )
    required_roles = BoundedModelMultipleChoiceField(
        label=_("Required roles"),
        queryset=Role.objects.order_by("position"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Roles this project cannot do without; unfilled ones are flagged."),
    )

    def __init__(self, *args, project: Project | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        may_manage = (
            Q(is_superuser=True)
            | Q(groups__permissions__codename__in=["add_project", "administer_projects"])
            | Q(user_permissions__codename__in=["add_project", "administer_projects"])
        )
        if project is not None:
            may_manage |= Q(managed_projects=project)
        self.fields["managers"].queryset = (
            get_user_model()
            .objects.filter(may_manage, is_active=True)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["required_roles"].label_from_instance = lambda role: role.display_name
        self.fields["version"].required = project is not None

    def clean_escalation_days(self) -> int:
        value = self.cleaned_data.get("escalation_days")
        if value is None:
            return self.project.escalation_days if self.project else 3
        return value

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clashes = Project.objects.filter(name__iexact=name)
        if self.project is not None:
            clashes = clashes.exclude(pk=self.project.pk)
        if clashes.exists():
            raise forms.ValidationError(_("A project with this name already exists."))
        return name

    def clean(self):
        cleaned = super().clean()
        start, target = cleaned.get("start_date"), cleaned.get("target_date")
        if start and target and target < start:
            self.add_error("target_date", _("The target date cannot be before the start date."))
        return cleaned


class PanelBoundField(MarksInvalid, DrawnBoundField):
    """A field of the team panel: drawn with templates/_field.html (MarksInvalid),
    carrying its value as drawn (DrawnBoundField)."""


class PanelForm(VersionedForm):
    """A form of the team panel (see `PanelBoundField`); its widgets carry their
    Bootstrap classes."""

    bound_field_class = PanelBoundField


class TeamFindForm(QueryForm):
    """The team page's search for people to add (`?find=`)."""

    find = SearchField(
        label=_("Find a person"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control",
                "placeholder": _("Name, username or email"),
                "autocomplete": "off",
            }
        ),
    )


class InviteForm(PanelForm):
    email = forms.EmailField(
        label=_("Email"), widget=PlainEmailInput(attrs={"class": "form-control"})
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        required=False,
        widget=PlainTextInput(attrs={"class": "form-control"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        required=False,
        widget=PlainTextInput(attrs={"class": "form-control"}),
    )


class AllocationField(forms.IntegerField):
    def __init__(
        self, *, widget: type[forms.NumberInput] = forms.NumberInput, attrs=None, **kwargs
    ):
        kwargs.setdefault("label", _("Allocation (%)"))
        kwargs.setdefault("initial", 100)
        super().__init__(
            min_value=0,
            max_value=100,
            widget=widget(attrs={"step": 5, **(attrs or {})}),
            **kwargs,
        )
        self.error_messages["invalid"] = _("Enter the allocation as a whole number from 0 to 100.")


class RoleCatalogue:
    """The role catalogue as the role forms offer it: the roles by id and their
    choices in the reader's language, built once for every form on a page (the
    team panel draws one per member)."""

    def __init__(self, roles: Iterable[Role]):
        self.roles = {role.pk: role for role in roles}
        self.choices = [(pk, role.display_name) for pk, role in self.roles.items()]


class AddMemberForm(PanelForm):
    """Adds one person to the team: the search's "Add" buttons send their id
    (there is no list of everyone to choose from, see `team_candidate_search`)."""

    user = BoundedModelChoiceField(
        label=_("Person"), queryset=get_user_model().objects.none(), widget=PlainHiddenInput
    )

    role = forms.TypedChoiceField(
        label=_("Role"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=PlainSelect(attrs={"class": "form-select"}),
    )
    allocation_percent = AllocationField(
        widget=PlainNumberInput,
        attrs={"class": "form-control", "placeholder": _("Rest of their time")},
        required=False,
        initial=None,
        help_text=_("Leave empty to give them what is left of their time."),
    )

    def __init__(self, *args, project: Project, catalogue: RoleCatalogue | None = None, **kwargs):
        """`catalogue`: the roles the new person may be given at once (none: no role)."""
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = team_candidates(project=project).only(
            "pk", "username", "first_name", "last_name"
        )
        self.fields["user"].error_messages["invalid_choice"] = _(
            "Choose someone who is not on the team yet."
        )
        self.roles = catalogue.roles if catalogue is not None else {}
        self.fields["role"].choices = [("", _("No role yet"))] + (
            catalogue.choices if catalogue is not None else []
        )

    def clean_role(self) -> Role | None:
        pk = self.cleaned_data.get("role")
        return None if pk is None else self.roles[pk]


class AssignRoleForm(PanelForm):
    role = forms.TypedChoiceField(
        label=_("Role"), coerce=int, widget=PlainSelect(attrs={"class": "form-select"})
    )
    allocation_percent = AllocationField(widget=PlainNumberInput, attrs={"class": "form-control"})

    def __init__(self, *args, held: Iterable[RoleAssignment], catalogue: RoleCatalogue, **kwargs):
        """`held`: the member's role assignments on the project (not offered again)."""
        super().__init__(*args, **kwargs)
        held = {a.role_id for a in held}
        self.roles = catalogue.roles
        self.fields["role"].choices = [("", "---------")] + [
            choice for choice in catalogue.choices if choice[0] not in held
        ]
        self.fields["role"].error_messages["invalid_choice"] = _(
            "This person already holds this role on the project."
        )

    def clean_role(self) -> Role:
        return self.roles[self.cleaned_data["role"]]


class AllocationForm(VersionedForm):
    allocation_percent = AllocationField()


class ConfirmForm(VersionedForm):
    """A destructive action: only the version, so a stale page cannot delete."""


class ProjectFilterForm(QueryForm):
    q = SearchField()
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ProjectStatus.choices]
    )
    manager = PersonChoiceField(
        label=_("Manager"),
        required=False,
        queryset=get_user_model().objects.none(),
        empty_label=_("Any manager"),
    )
    archived = forms.BooleanField(label=_("Archived projects"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[(key, key) for key in PROJECT_SORTS]
    )

    def __init__(self, *args, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers


class PeopleFilterForm(QueryForm):
    q = SearchField()


class CoverageFilterForm(QueryForm):
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[(key, key) for key in PROJECT_SORTS]
    )
