"""The API's resources about deliverables (mlteam/api/, docs/api-deliverables.md).

Thin views, as the pages' are: each reads through the selectors (404 for what
the caller may not see), checks the rule in `permissions` (403 for what they see
but may not change), validates the input with the same form the web page uses
(so a value the page refuses is refused here with the same words), and calls one
service. A JSON body is first checked for its shape by a serializer (a title
must be text, an id a number), then handed to the page's form as the page would
send it. A write drawn from an old version (If-Match) is a 412 with the current
representation (mlteam.api.versions).
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import reduce
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, OrderBy, Q, QuerySet
from django.db.models.expressions import BaseExpression
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from mlteam.api.pagination import MAX_PAGE_SIZE, PAGE_SIZE, page_size
from mlteam.api.problems import problem
from mlteam.api.serializers import BodySerializer, WholeNumberField, form_errors, form_query
from mlteam.api.versions import VersionedMixin, if_match
from mlteam.api.views import ReadOnlyViewSet, ViewSet
from mlteam.forms import _pk_in_range
from roles.api import PersonRefSerializer, RoleRefSerializer
from roles.models import Project, choice_label
from roles.permissions import can_manage_project

from . import selectors, services, workflow
from .forms import (
    CancelForm,
    ChecklistForm,
    CommentForm,
    DeliverableAddForm,
    DeliverableEditForm,
    DeliverableFilterForm,
    LinkForm,
    TransitionForm,
)
from .models import (
    AnswerKind,
    ChecklistItemTemplate,
    Deliverable,
    DeliverableStatus,
    DeliverableType,
    EventKind,
    LinkKind,
)
from .permissions import (
    can_answer_checklist,
    can_change_checklist,
    can_manage_deliverable,
    can_update_deliverable,
)

ID = r"[0-9]{1,18}"  # an id in a path: digits the database's ids can hold


# --- reading a body: the shape by a serializer, the rules by the page's form -----------


def _form_value(value) -> str:
    """A JSON value as a page's form submits it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _form_errors(form, names: dict[str, str] | None = None) -> exceptions.ValidationError:
    """A form's errors as the API's field errors (`names`: the API's name of a field
    the form names otherwise)."""
    return form_errors(form, names)


def _valid(form, names: dict[str, str] | None = None):
    if not form.is_valid():
        raise _form_errors(form, names)
    return form.cleaned_data


def _shape(serializer_class, request, **kwargs) -> dict:
    """The request's body checked for its shape (types, lengths)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- representations -------------------------------------------------------------------


class TypeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)
    role = RoleRefSerializer(read_only=True)


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(read_only=True)
    archived = serializers.SerializerMethodField()

    def get_archived(self, project) -> bool:
        return project.is_archived


class ChecklistTemplateSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="display_area", read_only=True)
    text = serializers.CharField(source="display_text", read_only=True)

    class Meta:
        model = ChecklistItemTemplate
        fields = ["id", "area", "text", "answer_kind", "required", "position"]
        read_only_fields = fields


class DeliverableTypeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    description = serializers.CharField(source="display_description", read_only=True)
    role = RoleRefSerializer(read_only=True)
    checklist = ChecklistTemplateSerializer(source="checklist_items", many=True, read_only=True)

    class Meta:
        model = DeliverableType
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "role",
            "default_due_offset_days",
            "checklist",
        ]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(source="items_done", read_only=True)
    total = serializers.IntegerField(source="items_total", read_only=True)
    required_open = serializers.IntegerField(read_only=True)


class DeliverableSerializer(serializers.ModelSerializer):
    """A deliverable as lists show it. Its checklist figures are read by the
    selectors (`items_done`, `items_total`, `required_open`)."""

    project = ProjectRefSerializer(read_only=True)
    type = TypeRefSerializer(read_only=True)
    label = serializers.CharField(read_only=True)
    owner = PersonRefSerializer(read_only=True, allow_null=True)
    status_label = serializers.CharField(read_only=True)
    overdue = serializers.SerializerMethodField()
    checklist = ProgressSerializer(source="*", read_only=True)

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "project",
            "type",
            "title",
            "description",
            "label",
            "owner",
            "due_date",
            "status",
            "status_label",
            "overdue",
            "checklist",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, deliverable) -> bool:
        return deliverable.is_overdue(self.context["today"])


class ActionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliverableStatus.choices, read_only=True)
    label = serializers.CharField(read_only=True)


class AllowedSerializer(serializers.Serializer):
    update = serializers.BooleanField(read_only=True)
    manage = serializers.BooleanField(read_only=True)
    answer_checklist = serializers.BooleanField(read_only=True)


class DeliverableDetailSerializer(DeliverableSerializer):
    """One deliverable: besides the list's fields, its reasons, and what the caller
    may do with it now (the moves the page offers them, as `workflow.actions_for`)."""

    actions = serializers.SerializerMethodField()
    allowed = serializers.SerializerMethodField()

    class Meta(DeliverableSerializer.Meta):
        fields = [
            *DeliverableSerializer.Meta.fields,
            "blocked_reason",
            "cancelled_reason",
            "done_override_reason",
            "actions",
            "allowed",
        ]
        read_only_fields = fields

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, deliverable) -> list[dict]:
        user = self.context["request"].user
        if not can_update_deliverable(user, deliverable):
            return []
        moves = workflow.actions_for(
            deliverable.status, manages=can_manage_deliverable(user, deliverable)
        )
        return [{"status": target, "label": str(label)} for target, label in moves.items()]

    @extend_schema_field(AllowedSerializer)
    def get_allowed(self, deliverable) -> dict:
        user = self.context["request"].user
        return {
            "update": can_update_deliverable(user, deliverable),
            "manage": can_manage_deliverable(user, deliverable)
            and not deliverable.project.is_archived,
            "answer_checklist": can_change_checklist(user, deliverable),
        }


class ChecklistItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    area = serializers.CharField(source="display_area", read_only=True)
    text = serializers.CharField(source="display_text", read_only=True)
    answer_kind = serializers.ChoiceField(choices=AnswerKind.choices, read_only=True)
    required = serializers.BooleanField(read_only=True)
    done = serializers.BooleanField(source="checked", read_only=True)
    answer = serializers.CharField(read_only=True)
    link = serializers.CharField(read_only=True)
    complete = serializers.BooleanField(source="is_complete", read_only=True)
    answered_by = PersonRefSerializer(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ChecklistSerializer(serializers.Serializer):
    """A deliverable's checklist, with the deliverable's version (its ETag: the
    checklist changes with it)."""

    version = serializers.IntegerField(read_only=True)
    locked = serializers.BooleanField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    required_open = serializers.IntegerField(read_only=True)
    items = ChecklistItemSerializer(many=True, read_only=True)


class LinkSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    kind = serializers.ChoiceField(choices=LinkKind.choices, read_only=True)
    kind_label = serializers.SerializerMethodField()
    url = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    target = serializers.DictField(
        read_only=True,
        help_text="What the address points at, as parsed for its kind (empty for plain links).",
    )
    added_by = PersonRefSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    def get_kind_label(self, link) -> str:
        return choice_label(LinkKind, link.kind)


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    author = PersonRefSerializer(read_only=True, allow_null=True)
    # A deleted comment keeps its place, without its text (as on the page).
    body = serializers.CharField(source="shown_body", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    edited_at = serializers.DateTimeField(read_only=True, allow_null=True)
    deleted = serializers.BooleanField(source="is_deleted", read_only=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One change: its kind and structured values (`before`, `after`: the shapes of
    mlteam.history), and the same worded in the reader's language (`*_text`)."""

    id = serializers.IntegerField(source="pk", read_only=True)
    kind = serializers.ChoiceField(choices=EventKind.choices, read_only=True)
    kind_label = serializers.CharField(read_only=True)
    actor = PersonRefSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    before = serializers.SerializerMethodField()
    after = serializers.SerializerMethodField()
    before_text = serializers.CharField(source="display_before", read_only=True)
    after_text = serializers.CharField(source="display_after", read_only=True)

    @extend_schema_field(OpenApiTypes.ANY)  # a value, an object or null (creation)
    def get_before(self, event):
        return (event.payload or {}).get("before")

    @extend_schema_field(OpenApiTypes.ANY)  # a value, an object or null (creation)
    def get_after(self, event):
        return (event.payload or {}).get("after")


# --- request bodies (their shape; the rules are the forms') ---------------------------


class DeliverableCreateSerializer(BodySerializer):
    project = WholeNumberField(min_value=1)
    type = WholeNumberField(min_value=1)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    owner = WholeNumberField(required=False, allow_null=True, default=None, min_value=1)
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class DeliverableUpdateSerializer(BodySerializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    type = WholeNumberField(required=False, min_value=1)
    owner = WholeNumberField(required=False, allow_null=True, min_value=1)
    due_date = serializers.DateField(required=False, allow_null=True)
    confirm_type_change = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirm a new type whose checklist drops answers given so far.",
    )


class TransitionSerializer(BodySerializer):
    status = serializers.ChoiceField(choices=DeliverableStatus.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="Why it is blocked or cancelled (needed for those moves).",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="A manager's reason to mark it done with required items open.",
    )


class CancelSerializer(BodySerializer):
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ChecklistAnswerSerializer(BodySerializer):
    done = serializers.BooleanField(required=False, help_text="For items answered with a tick.")
    answer = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="For items answered in writing.",
    )
    link = serializers.CharField(
        required=False, allow_blank=True, help_text="For items answered with a link."
    )


class NewLinkSerializer(BodySerializer):
    kind = serializers.ChoiceField(
        choices=LinkKind.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty: detected from the address. A chosen kind's format is checked.",
    )
    url = serializers.CharField(
        help_text="A web address, or models:/name/version, models:/name@alias, runs:/<id>."
    )
    label = serializers.CharField(required=False, allow_blank=True, default="")


class NewCommentSerializer(BodySerializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


# --- keyset pagination -----------------------------------------------------------------


@dataclass(frozen=True)
class _SortKey:
    name: str  # the annotation holding the key
    descending: bool
    nulls_last: bool


class KeysetPagination:
    """Pages of an ordered queryset by its sort's own columns (keyset pagination).

    DRF's CursorPagination takes one plain field; the lists sort by several
    columns, some of other tables, some NULL (no due date), with ties. So:
    1. each term of the queryset's ordering becomes an annotation (`sort_key_<n>`),
       ordered with NULLs placed explicitly (PostgreSQL's default: last going up,
       first going down; unless the term says), the same on every database;
    2. the cursor holds the last row's keys (the ordering always ends in the id,
       so no two rows share them);
    3. the next page is the rows after those keys: for some n, equal on the first
       n keys and beyond on the next one, NULLs counted where they are ordered.
    The page's rows are picked on these columns alone; the caller loads them.
    """

    page_size = PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    cursor_param = "cursor"

    def _keys(self, rows: QuerySet) -> tuple[QuerySet, list[_SortKey]]:
        annotations, keys = {}, []
        for index, term in enumerate(rows.query.order_by):
            name = f"sort_key_{index}"
            if isinstance(term, str):
                descending = term.startswith("-")
                expression, nulls_last = F(term.lstrip("-")), not descending
            elif isinstance(term, OrderBy):
                descending, expression = term.descending, term.expression
                nulls_last = bool(term.nulls_last) or (not term.nulls_first and not descending)
            elif isinstance(term, BaseExpression):
                descending, expression, nulls_last = False, term, True
            else:  # pragma: no cover (an ordering Django would not take either)
                raise TypeError(f"Cannot page by {term!r}")
            annotations[name] = expression
            keys.append(_SortKey(name, descending, nulls_last))
        rows = rows.annotate(**annotations).order_by(
            *(
                OrderBy(
                    F(key.name),
                    descending=key.descending,
                    nulls_last=True if key.nulls_last else None,
                    nulls_first=None if key.nulls_last else True,
                )
                for key in keys
            )
        )
        return rows, keys

    @staticmethod
    def _beyond(key: _SortKey, value) -> Q | None:
        """Rows after `value` on this key alone (None: there are none)."""
        if value is None:
            return None if key.nulls_last else Q(**{f"{key.name}__isnull": False})
        condition = Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})
        if key.nulls_last:
            condition |= Q(**{f"{key.name}__isnull": True})
        return condition

    def _after(self, keys: list[_SortKey], values: list) -> Q:
        alternatives, equal = [], Q()
        for key, value in zip(keys, values, strict=True):
            beyond = self._beyond(key, value)
            if beyond is not None:
                alternatives.append(equal & beyond)
            equal &= Q(**({f"{key.name}__isnull": True} if value is None else {key.name: value}))
        return reduce(operator.or_, alternatives) if alternatives else Q(pk__in=[])

    def _size(self, request) -> int:
        return page_size(request, self.page_size, self.max_page_size)

    def _decode(self, rows: QuerySet, keys: list[_SortKey], cursor: str) -> list:
        invalid = exceptions.ValidationError(
            {self.cursor_param: [_("This cursor is not one this list gave (or its sort changed).")]}
        )
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==="))
        except (ValueError, UnicodeError, binascii.Error):
            raise invalid from None
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise invalid
        values = []
        for key, value in zip(keys, raw, strict=True):
            if value is None:
                values.append(None)
                continue
            if not isinstance(value, str | int | float | bool):
                raise invalid
            field = rows.query.annotations[key.name].output_field
            try:
                values.append(field.to_python(value))
            except (DjangoValidationError, TypeError, ValueError, OverflowError):
                raise invalid from None
        return values

    @staticmethod
    def _encode(values) -> str:
        text = json.dumps(list(values), default=_plain, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def page(self, request, rows: QuerySet) -> tuple[list[int], str | None]:
        """The ids of the page's rows in order, and the address of the next page."""
        size = self._size(request)
        rows, keys = self._keys(rows)
        cursor = request.query_params.get(self.cursor_param)
        if cursor:
            rows = rows.filter(self._after(keys, self._decode(rows, keys, cursor)))
        picked = list(rows.values_list("pk", *(key.name for key in keys))[: size + 1])
        next_url = None
        if len(picked) > size:
            picked = picked[:size]
            next_url = replace_query_param(
                request.build_absolute_uri(), self.cursor_param, self._encode(picked[-1][1:])
            )
        return [row[0] for row in picked], next_url


def _plain(value):
    """A key's value in a cursor: exact (DjangoJSONEncoder cuts datetimes to
    milliseconds, which would skip or repeat rows updated within one)."""
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"Cannot put {value!r} in a cursor")


PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", str, description="The `next` address's cursor (from the previous page)."
    ),
    OpenApiParameter("page_size", int, description="Rows a page: 1 to 200 (50)."),
]


def _page_serializer(name: str, row_serializer):
    """The schema of a page: its rows and the address of the next one."""
    return extend_schema_serializer(many=False)(
        type(
            name,
            (serializers.Serializer,),
            {
                "next": serializers.URLField(allow_null=True, read_only=True),
                "results": row_serializer(many=True, read_only=True),
            },
        )
    )


DeliverablePage = _page_serializer("DeliverablePage", DeliverableSerializer)
LinkPage = _page_serializer("LinkPage", LinkSerializer)
CommentPage = _page_serializer("CommentPage", CommentSerializer)
HistoryPage = _page_serializer("HistoryPage", HistoryEntrySerializer)


def _in_order(rows, ids: list[int]) -> list:
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


# --- views -----------------------------------------------------------------------------


class DeliverableTypeViewSet(ReadOnlyViewSet):
    """The catalogue of deliverable types, with their checklists (admins edit it)."""

    serializer_class = DeliverableTypeSerializer
    queryset = (
        DeliverableType.objects.select_related("role")
        .prefetch_related("checklist_items")
        .order_by("role__position", "position", "name", "pk")
    )
    pagination_class = None  # a few dozen types
    filter_backends: list = []
    lookup_value_regex = ID


_FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="Search the title and the type's name."),
    OpenApiParameter("project", int, description="A project's id (an active one you see)."),
    OpenApiParameter("role", int, description="A role's id (the type's role)."),
    OpenApiParameter("type", int, description="A deliverable type's id."),
    OpenApiParameter(
        "status",
        str,
        enum=["open", *DeliverableStatus.values],
        description="A status, or `open`: neither done nor cancelled.",
    ),
    OpenApiParameter("owner", int, description="The owner's id."),
    OpenApiParameter(
        "overdue",
        bool,
        description="Only overdue work (open, past its due date): true/false or 1/0.",
    ),
    OpenApiParameter(
        "due_within", int, description="Open work due within this many days (0-3650)."
    ),
    OpenApiParameter(
        "sort",
        str,
        enum=list(selectors.SORTS),
        description="The list's order, as on the web list (`due` by default).",
    ),
]
_DELIVERABLE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The version the change was drawn from ("3"): a stale one is a 412.',
)


class DeliverableViewSet(VersionedMixin, ViewSet):
    """Deliverables the caller may see (the web list's rule, filters and sorts)."""

    queryset = Deliverable.objects.none()  # for the schema: every read goes through selectors
    serializer_class = DeliverableDetailSerializer
    pagination_class = None  # keyset pages (KeysetPagination)
    filter_backends: list = []
    lookup_value_regex = ID

    # -- fetching, as the pages do --

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def get_object(self) -> Deliverable:
        deliverable = selectors.deliverable_get_for_user(
            user=self.request.user, pk=int(self.kwargs["pk"])
        )
        if deliverable is None:
            raise Http404
        for name, value in _progress(deliverable).items():
            setattr(deliverable, name, value)
        return deliverable

    def _seen(self) -> Deliverable:
        """The deliverable alone (none of its related rows), for its paged lists."""
        deliverable = selectors.deliverable_seen(user=self.request.user, pk=int(self.kwargs["pk"]))
        if deliverable is None:
            raise Http404
        return deliverable

    def _page(self, rows, serializer_class) -> Response:
        """One page of `rows` in keyset pages: the list and a deliverable's paged lists."""
        ids, next_url = KeysetPagination().page(self.request, rows)
        page = _in_order(rows.filter(pk__in=ids).order_by(), ids)
        return Response(
            {
                "next": next_url,
                "results": serializer_class(
                    page, many=True, context=self.get_serializer_context()
                ).data,
            }
        )

    def _updatable(self) -> Deliverable:
        deliverable = self.get_object()
        if not can_update_deliverable(self.request.user, deliverable):
            raise exceptions.PermissionDenied()
        return deliverable

    def _managed(self) -> Deliverable:
        deliverable = self.get_object()
        if not can_manage_deliverable(self.request.user, deliverable):
            raise exceptions.PermissionDenied()
        return deliverable

    def _detail(self, deliverable=None, status_code=status.HTTP_200_OK, **kwargs) -> Response:
        deliverable = deliverable or self.get_object()
        return Response(self.get_serializer(deliverable).data, status=status_code, **kwargs)

    def current_representation(self):
        if self.action in {"checklist", "checklist_item"}:
            return _checklist(self.get_object())
        return self.get_serializer(self.get_object()).data

    # -- the list --

    @extend_schema(
        parameters=[*_FILTER_PARAMETERS, *PAGE_PARAMETERS], responses={200: DeliverablePage}
    )
    def list(self, request):
        """The deliverables of the active projects you see, filtered and sorted as
        on the web list; invalid filters are a 400 (the page leaves them out)."""
        form = selectors.deliverable_filter_form(
            user=request.user, data=form_query(DeliverableFilterForm, request.query_params)
        )
        if form.is_bound and not form.is_valid():
            raise _form_errors(form)
        today = timezone.localdate()
        filters = selectors.deliverable_filters(form.values())
        rows = selectors.deliverable_list(user=request.user, filters=filters, today=today)
        return self._page(rows, DeliverableSerializer)

    # -- one deliverable --

    @extend_schema(parameters=[_DELIVERABLE_ID], responses=DeliverableDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._detail()

    @extend_schema(
        request=DeliverableCreateSerializer, responses={201: DeliverableDetailSerializer}
    )
    def create(self, request):
        """Add one deliverable (the project's managers), as the project's "Add a
        deliverable" page does: any type, "Other" with its own title."""
        data = _shape(DeliverableCreateSerializer, request)
        project = (
            Project.objects.visible_to(request.user).filter(pk=data["project"]).first()
            if _pk_in_range(Project, data["project"])
            else None
        )
        if project is None:  # as reading it: a project one may not see does not exist
            raise Http404
        if not can_manage_project(request.user, project):
            raise exceptions.PermissionDenied(
                _("Only the project's managers can plan its deliverables.")
            )
        form = DeliverableAddForm(
            {
                name: _form_value(data[name])
                for name in ("type", "title", "description", "owner", "due_date")
            },
            owners=selectors.owner_choices(project=project),
        )
        row = _valid(form)
        deliverable = services.deliverable_add(project=project, actor=request.user, **row)
        self.kwargs["pk"] = deliverable.pk
        created = self.get_object()
        return self._detail(
            created,
            status.HTTP_201_CREATED,
            headers={
                "Location": request.build_absolute_uri(
                    reverse("api:deliverable-detail", args=[created.pk])
                )
            },
        )

    @extend_schema(
        parameters=[_DELIVERABLE_ID, _IF_MATCH],
        request=DeliverableUpdateSerializer,
        responses=DeliverableDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        """Change the title, description, type, owner or due date (the project's managers)."""
        deliverable = self._managed()
        data = _shape(DeliverableUpdateSerializer, request)
        version = if_match(request)
        current = {
            "title": deliverable.title,
            "description": deliverable.description,
            "type": deliverable.type_id,
            "owner": deliverable.owner_id,
            "due_date": deliverable.due_date,
        }
        sent = {**current, **{name: data[name] for name in current if name in data}}
        form = DeliverableEditForm(
            {
                "version": deliverable.version,
                "confirm_type_change": _form_value(data.get("confirm_type_change")),
                **{name: _form_value(value) for name, value in sent.items()},
            },
            owners=selectors.owner_choices(project=deliverable.project, current=deliverable.owner),
            deliverable=deliverable,
        )
        cleaned = _valid(form)
        changed = {
            "title": cleaned["title"] != deliverable.title,
            "description": cleaned["description"] != deliverable.description,
            "type": cleaned["type"].pk != deliverable.type_id,
            "owner": (cleaned["owner"].pk if cleaned["owner"] else None) != deliverable.owner_id,
            "due_date": cleaned["due_date"] != deliverable.due_date,
        }
        # Unchanged, nothing is written (no new version), as on the edit page; a
        # stale If-Match is still refused, so the caller learns the current state.
        if any(changed.values()):
            services.deliverable_update(
                deliverable=deliverable,
                actor=request.user,
                version=version,
                title=cleaned["title"],
                description=cleaned["description"],
                owner=cleaned["owner"],
                due_date=cleaned["due_date"],
                type=cleaned["type"],
            )
        elif version is not None and version != deliverable.version:
            raise DjangoValidationError(services.STALE_MESSAGE, code="stale")
        return self._detail()

    @extend_schema(
        parameters=[_DELIVERABLE_ID, _IF_MATCH],
        request=TransitionSerializer,
        responses=DeliverableDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move it along the workflow, with the web's rules: the owner and managers
        move it; done, cancelled and restoring are the managers'; done needs the
        required checklist items complete, or a manager's `override_reason` (a
        400 `checklist_open` lists the items still open)."""
        deliverable = self._updatable()
        data = _shape(TransitionSerializer, request)
        form = TransitionForm(
            {
                "version": deliverable.version,
                "to_status": data["status"],
                "reason": data["reason"],
                "override_reason": data["override_reason"],
            }
        )
        cleaned = _valid(form, {"to_status": "status"})
        if workflow.manager_only(
            deliverable.status, cleaned["to_status"]
        ) and not can_manage_deliverable(request.user, deliverable):
            raise exceptions.PermissionDenied(
                services.manager_only_message(deliverable.status, cleaned["to_status"])
            )
        return self._move(
            deliverable,
            to_status=cleaned["to_status"],
            reason=cleaned["reason"],
            override_reason=cleaned["override_reason"],
        )

    @extend_schema(
        parameters=[_DELIVERABLE_ID, _IF_MATCH],
        request=CancelSerializer,
        responses=DeliverableDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel it (the project's managers), saying why: as the web's cancel page."""
        deliverable = self._managed()
        data = _shape(CancelSerializer, request)
        cleaned = _valid(CancelForm({"version": deliverable.version, "reason": data["reason"]}))
        return self._move(deliverable, to_status=DeliverableStatus.CANCELLED, **cleaned)

    def _move(self, deliverable, *, to_status, reason="", override_reason="", **_ignored):
        try:
            services.deliverable_transition(
                deliverable=deliverable,
                actor=self.request.user,
                to_status=to_status,
                version=if_match(self.request),
                reason=reason,
                override_reason=override_reason,
            )
        except DjangoValidationError as error:
            code = next((e.code for e in error.error_list if services.is_waivable(e.code)), None)
            if code is not None:
                return problem(
                    self.request,
                    status.HTTP_400_BAD_REQUEST,
                    " ".join(error.messages),
                    code=code,
                    errors=[
                        {
                            "field": "override_reason",
                            "pointer": "#/override_reason",
                            "detail": " ".join(error.messages),
                            "code": code,
                        }
                    ],
                    missing_items=ChecklistItemSerializer(
                        services.required_items_open(deliverable), many=True
                    ).data,
                    # What registered gates (the readiness rubric) name as missing.
                    **(
                        {"missing_readiness": gated}
                        if (gated := services.done_gate_blockers(deliverable))
                        else {}
                    ),
                )
            raise
        return self._detail()

    # -- the checklist --

    @extend_schema(parameters=[_DELIVERABLE_ID], responses=ChecklistSerializer)
    @action(detail=True, methods=["get"])
    def checklist(self, request, pk=None):
        return Response(_checklist(self.get_object()))

    @extend_schema(
        parameters=[
            _DELIVERABLE_ID,
            OpenApiParameter("item_id", int, OpenApiParameter.PATH),
            _IF_MATCH,
        ],
        request=ChecklistAnswerSerializer,
        responses=ChecklistSerializer,
    )
    @action(detail=True, methods=["patch"], url_path=rf"checklist/(?P<item_id>{ID})")
    def checklist_item(self, request, pk=None, item_id=None):
        """Tick or answer one item: `done` for a tick, `answer` for a written
        answer, `link` for a link (the item's `answer_kind` says which)."""
        deliverable = self.get_object()
        if not can_answer_checklist(request.user, deliverable):
            raise exceptions.PermissionDenied()
        item = next((i for i in deliverable.checklist_items.all() if i.pk == int(item_id)), None)
        if item is None:
            raise Http404
        data = _shape(ChecklistAnswerSerializer, request)
        expected = {AnswerKind.TICK: "done", AnswerKind.TEXT: "answer", AnswerKind.LINK: "link"}[
            item.answer_kind
        ]
        wrong = sorted(set(data) - {expected})
        if wrong:
            raise exceptions.ValidationError(
                {
                    name: [
                        _("This item is answered with `%(field)s`, not `%(name)s`.")
                        % {"field": expected, "name": name}
                    ]
                    for name in wrong
                }
            )
        version = if_match(request)
        if expected in data:
            form = ChecklistForm(
                {"version": deliverable.version, f"item_{item.pk}": _form_value(data[expected])},
                items=[item],
            )
            value = _valid(form, {f"item_{item.pk}": expected})[f"item_{item.pk}"]
            answer = services.ChecklistAnswer(
                checked=bool(value) if expected == "done" else False,
                answer=value if expected == "answer" else "",
                link=value if expected == "link" else "",
            )
            now = (item.checked, item.answer, item.link)
            if now != (answer.checked, answer.answer.strip(), answer.link.strip()):
                services.checklist_update(
                    deliverable=deliverable,
                    actor=request.user,
                    version=version,
                    answers={item.pk: answer},
                )
                return Response(_checklist(self.get_object()))
        if version is not None and version != deliverable.version:
            raise DjangoValidationError(services.STALE_MESSAGE, code="stale")
        return Response(_checklist(deliverable))

    # -- links, comments, history --

    @extend_schema(
        methods=["GET"],
        parameters=[_DELIVERABLE_ID, *PAGE_PARAMETERS],
        responses={200: LinkPage},
    )
    @extend_schema(
        methods=["POST"],
        parameters=[_DELIVERABLE_ID],
        request=NewLinkSerializer,
        responses={201: LinkSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def links(self, request, pk=None):
        if request.method == "GET":
            return self._page(selectors.deliverable_links(deliverable=self._seen()), LinkSerializer)
        deliverable = self._updatable()
        form = LinkForm({k: _form_value(v) for k, v in _shape(NewLinkSerializer, request).items()})
        link = services.link_add(deliverable=deliverable, actor=request.user, **_valid(form))
        return Response(LinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_DELIVERABLE_ID, OpenApiParameter("link_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={204: None},
    )
    @action(detail=True, methods=["delete"], url_path=rf"links/(?P<link_id>{ID})")
    def link(self, request, pk=None, link_id=None):
        deliverable = self._updatable()
        link = next((i for i in deliverable.links.all() if i.pk == int(link_id)), None)
        if link is None:
            raise Http404
        link.deliverable = deliverable
        services.link_remove(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        parameters=[_DELIVERABLE_ID, *PAGE_PARAMETERS],
        responses={200: CommentPage},
    )
    @extend_schema(
        methods=["POST"],
        parameters=[_DELIVERABLE_ID],
        request=NewCommentSerializer,
        responses={201: CommentSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        if request.method == "GET":
            return self._page(
                selectors.deliverable_comments(deliverable=self._seen()), CommentSerializer
            )
        deliverable = self._updatable()
        form = CommentForm({"body": _shape(NewCommentSerializer, request)["body"]})
        comment = services.comment_add(
            deliverable=deliverable, actor=request.user, body=_valid(form)["body"]
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[_DELIVERABLE_ID, *PAGE_PARAMETERS], responses={200: HistoryPage})
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Its changes, newest first, page by page."""
        events = selectors.deliverable_events(deliverable=self._seen())
        return self._page(events, HistoryEntrySerializer)


def _progress(deliverable: Deliverable) -> dict[str, int]:
    """The list's checklist figures of one deliverable, from its loaded items."""
    items = deliverable.checklist_items.all()
    return {
        "items_total": len(items),
        "items_done": sum(1 for item in items if item.is_complete),
        "required_open": len(services.required_items_open(deliverable)),
    }


def _checklist(deliverable: Deliverable) -> dict:
    figures = _progress(deliverable)
    return ChecklistSerializer(
        {
            "version": deliverable.version,
            "locked": deliverable.checklist_locked,
            "done": figures["items_done"],
            "total": figures["items_total"],
            "required_open": figures["required_open"],
            "items": selectors.in_area_order(deliverable.checklist_items.all()),
        }
    ).data


class MyWorkViewSet(ViewSet):
    """My work: the open deliverables I own, overdue first, then due soon."""

    pagination_class = None
    filter_backends: list = []
    serializer_class = DeliverableSerializer

    @extend_schema(parameters=PAGE_PARAMETERS, responses={200: DeliverablePage})
    def list(self, request):
        today = timezone.localdate()
        rows = selectors.my_work(user=request.user, today=today)
        ids, next_url = KeysetPagination().page(request, rows)
        page = _in_order(rows.filter(pk__in=ids).order_by(), ids)
        return Response(
            {
                "next": next_url,
                "results": DeliverableSerializer(
                    page, many=True, context={"request": request, "today": today}
                ).data,
            }
        )


# (URL prefix, viewset, basename): registered under /api/v1/ by mlteam/api/urls.py.
ROUTES = [
    ("deliverable-types", DeliverableTypeViewSet, "deliverable-type"),
    ("deliverables", DeliverableViewSet, "deliverable"),
    ("me/work", MyWorkViewSet, "my-work"),
]
