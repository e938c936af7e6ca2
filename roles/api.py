"""The API's resources about people on projects (mlteam/api/, docs/api.md).

Each endpoint does what its web page does, through the same helpers: visibility
from `Project.objects.visible_to` / `selectors.project_get_for_user` /
`people_visible_to` (invisible: 404), changes allowed by the `can_*` functions
(visible but not allowed: 403), writes through `roles.services` with the project
version the web forms send, taken from If-Match (stale: 412, mlteam.api.versions).

- /projects/ (list with filters, retrieve, create, partial update, archive, restore,
  coverage): the project list, page, form and archive/restore confirmations;
- /projects/{id}/team/ and .../team/{membership}/roles/: the team panel (its read
  is the team the project page shows every viewer);
- /people/: the people directory;
- /roles/: the role catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from mlteam.api.serializers import (
    BodySerializer,
    ReferenceField,
    form_errors,
    form_query,
    no_such,
)
from mlteam.api.versions import VersionedMixin, if_match
from mlteam.api.views import ReadOnlyViewSet, ViewSet
from mlteam.forms import _pk_in_range
from mlteam.people import is_deactivated, is_pending_invitee, person_name

from . import selectors, services
from .forms import PeopleFilterForm, ProjectFilterForm, ProjectForm
from .models import Membership, Project, ProjectStatus, Role, RoleAssignment, choice_label
from .permissions import can_create_project, can_manage_project

# --- shared pieces ----------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    """A person as lists name them."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    display_name = serializers.SerializerMethodField()

    def get_display_name(self, user) -> str:
        return person_name(user)


class RoleRefSerializer(serializers.Serializer):
    """A role of the catalogue, named in the reader's language."""

    id = serializers.IntegerField(read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class RoleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    summary = serializers.CharField(source="display_summary", read_only=True)
    knowledge_and_skills = serializers.CharField(
        source="display_knowledge_and_skills", read_only=True
    )

    class Meta:
        model = Role
        fields = ["id", "slug", "name", "summary", "knowledge_and_skills", "required_by_default"]
        read_only_fields = fields


def _visible_project(request, pk, *, with_team: bool = False) -> Project:
    """The project if the caller may see it (the project page's lookup), else 404."""
    if not _pk_in_range(Project, pk):
        raise Http404
    if with_team:
        project = selectors.project_get_for_user(user=request.user, pk=int(pk))
    else:
        project = (
            Project.objects.visible_to(request.user)
            .prefetch_related("managers", "required_roles")
            .filter(pk=int(pk))
            .first()
        )
    if project is None:
        raise Http404
    return project


def _managed(request, project: Project) -> Project:
    """A visible project the caller may change, else 403 (as the web's pages)."""
    if not can_manage_project(request.user, project):
        raise exceptions.PermissionDenied()
    return project


def _unchanged(request, project: Project) -> None:
    """A write that changes nothing writes nothing (no new version, as the web's
    forms); its If-Match is still checked, so a stale one is a 412 all the same."""
    version = if_match(request)
    if version is not None and version != project.version:
        raise DjangoValidationError(services.STALE_MESSAGE, code="stale")


def _created(data: dict, url_name: str, **kwargs) -> Response:
    """201 with the new resource and where it lives (Location)."""
    return Response(
        data, status=status.HTTP_201_CREATED, headers={"Location": reverse(url_name, kwargs=kwargs)}
    )


PROJECT_PK = OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
MEMBERSHIP_PK = OpenApiParameter("membership_pk", OpenApiTypes.INT, OpenApiParameter.PATH)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description='The version the change was drawn from, as its ETag ("3"); stale: 412.',
)


# --- coverage ---------------------------------------------------------------------------


class CoverageHolderSerializer(serializers.Serializer):
    membership_id = serializers.IntegerField()
    person_id = serializers.IntegerField()
    display_name = serializers.CharField()
    allocation_percent = serializers.IntegerField()


class CoverageSuggestionSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField(source="name")
    project_id = serializers.IntegerField()
    project_name = serializers.CharField()
    on_team = serializers.BooleanField()


class CoverageRoleSerializer(serializers.Serializer):
    role = serializers.SerializerMethodField()
    required = serializers.BooleanField()
    filled = serializers.BooleanField()
    holders = serializers.SerializerMethodField()
    suggestions = CoverageSuggestionSerializer(many=True)

    @extend_schema_field(RoleRefSerializer)
    def get_role(self, row) -> dict:
        return {"id": row.role_id, "slug": row.role_slug, "name": row.role_name}

    @extend_schema_field(CoverageHolderSerializer(many=True))
    def get_holders(self, row) -> list[dict]:
        people = self.context["people"]
        return [
            {
                "membership_id": person.membership_id,
                "person_id": person.user_id,
                "display_name": person.name,
                "allocation_percent": allocation,
            }
            for person, allocation in zip(people, row.cells, strict=True)
            if allocation is not None
        ]


class CoveragePersonSerializer(serializers.Serializer):
    membership_id = serializers.IntegerField()
    person_id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField(source="name")
    role_count = serializers.IntegerField()
    allocation_here = serializers.IntegerField()
    allocation_total = serializers.IntegerField(
        help_text=_("Across the active projects you may see.")
    )
    holds_many_roles = serializers.BooleanField()
    overallocated = serializers.BooleanField()


class CoverageSerializer(serializers.Serializer):
    roles = serializers.SerializerMethodField()
    gaps = serializers.SerializerMethodField()
    people = CoveragePersonSerializer(many=True)

    @extend_schema_field(CoverageRoleSerializer(many=True))
    def get_roles(self, matrix) -> list:
        return CoverageRoleSerializer(
            matrix.rows, many=True, context={"people": matrix.people}
        ).data

    @extend_schema_field(RoleRefSerializer(many=True))
    def get_gaps(self, matrix) -> list[dict]:
        return [
            {"id": row.role_id, "slug": row.role_slug, "name": row.role_name}
            for row in matrix.rows
            if not row.filled
        ]


# --- projects ---------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    status_label = serializers.SerializerMethodField()
    is_archived = serializers.BooleanField(read_only=True)
    managers = PersonRefSerializer(many=True, read_only=True)
    required_roles = RoleRefSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "business_problem",
            "status",
            "status_label",
            "start_date",
            "target_date",
            "escalation_days",
            "managers",
            "required_roles",
            "is_archived",
            "archived_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_status_label(self, project) -> str:
        return str(choice_label(ProjectStatus, project.status))


class ProjectWriteSerializer(BodySerializer):
    """What the project form takes, with its checks (`roles.forms.ProjectForm`).
    The context's `project` is the one edited (None: a new one)."""

    name = serializers.CharField(max_length=200)
    business_problem = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    managers = ReferenceField(
        missing=_("No such person among those who may manage projects."),
        many=True,
        allow_empty=False,
        required=False,
        queryset=get_user_model().objects.none(),
        help_text=_("People who may change the project and its team (default: you)."),
    )
    status = serializers.ChoiceField(choices=ProjectStatus.choices, required=False)
    start_date = serializers.DateField(allow_null=True, required=False)
    target_date = serializers.DateField(allow_null=True, required=False)
    escalation_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    required_roles = ReferenceField(
        missing=no_such(Role),
        many=True,
        required=False,
        queryset=Role.objects.all(),
        help_text=_("Default: the roles the catalogue marks as required by default."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        project = self.context.get("project")
        # Whom the form offers as managers: the same people, from the form itself.
        self.fields["managers"].child_relation.queryset = (
            ProjectForm(project=project).fields["managers"].queryset
        )

    def validate_name(self, value: str) -> str:
        name = value.strip()
        clashes = Project.objects.filter(name__iexact=name)
        project = self.context.get("project")
        if project is not None:
            clashes = clashes.exclude(pk=project.pk)
        if clashes.exists():
            raise serializers.ValidationError(_("A project with this name already exists."))
        return name

    def validate_business_problem(self, value: str) -> str:
        return value.replace("\r\n", "\n").replace("\r", "\n")  # as the form keeps it

    def validate(self, attrs):
        project = self.context.get("project")

        def value(name):
            if name in attrs:
                return attrs[name]
            return getattr(project, name) if project is not None else None

        start, target = value("start_date"), value("target_date")
        if start and target and target < start:
            raise serializers.ValidationError(
                {"target_date": _("The target date cannot be before the start date.")}
            )
        return attrs


# The project list's query parameters, as the web list's form reads them
# (`roles.forms.ProjectFilterForm`, through mlteam.api.serializers.form_query).
PROJECT_FILTERS = [
    OpenApiParameter("q", str, description=_("Name or business problem.")),
    OpenApiParameter("status", str, enum=ProjectStatus.values, description=_("One status.")),
    OpenApiParameter(
        "archived",
        bool,
        description=_("Archived projects instead of active ones (true/false, 1/0)."),
    ),
    OpenApiParameter(
        "manager", int, description=_("A manager's id (one who manages a project you see).")
    ),
]


def _project_changes(project: Project, data: dict) -> dict:
    """The fields whose sent value differs from the project's (as `form.changes()`)."""
    changes = {}
    for name, value in data.items():
        if name in {"managers", "required_roles"}:
            if {item.pk for item in value} != {item.pk for item in getattr(project, name).all()}:
                changes[name] = value
        elif getattr(project, name) != value:
            changes[name] = value
    return changes


@extend_schema_view(
    list=extend_schema(
        summary="Projects you may see",
        parameters=PROJECT_FILTERS,
        responses=ProjectSerializer(many=True),
    ),
    retrieve=extend_schema(summary="A project", responses=ProjectSerializer),
    create=extend_schema(
        summary="Create a project",
        request=ProjectWriteSerializer,
        responses={201: ProjectSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a project",
        parameters=[IF_MATCH],
        request=ProjectWriteSerializer,
        responses=ProjectSerializer,
    ),
)
class ProjectViewSet(VersionedMixin, ViewSet):
    """Projects: the visible ones, and, for their managers, changes to them."""

    serializer_class = ProjectSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        form = ProjectFilterForm(
            form_query(ProjectFilterForm, self.request.query_params),
            managers=selectors.project_manager_choices(user=self.request.user),
        )
        if form.is_bound and not form.is_valid():
            raise form_errors(form)
        data = form.values()
        return selectors.project_search(
            user=self.request.user,
            query=(data["q"] or "").strip(),
            status=data["status"] or "",
            manager_id=data["manager"].pk if data["manager"] else None,
            archived=bool(data["archived"]),
        ).prefetch_related("required_roles")

    def get_object(self) -> Project:
        return _visible_project(self.request, self.kwargs["pk"])

    def as_saved(self, project: Project) -> dict:
        """The project as a write left it, read again whoever may see it now: its
        author need not be among its managers (handing a project over)."""
        saved = Project.objects.prefetch_related("managers", "required_roles").get(pk=project.pk)
        return self.get_serializer(saved).data

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        if not can_create_project(request.user):
            raise exceptions.PermissionDenied()
        serializer = ProjectWriteSerializer(
            data=request.data, context={"request": request, "project": None}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("managers", [request.user])  # as the web form offers
        project = services.project_create(actor=request.user, **data)
        return _created(self.as_saved(project), "api:project-detail", pk=project.pk)

    def partial_update(self, request, pk=None):
        project = _managed(request, self.get_object())
        serializer = ProjectWriteSerializer(
            data=request.data, partial=True, context={"request": request, "project": project}
        )
        serializer.is_valid(raise_exception=True)
        if project.is_archived:  # as the web's edit page: restore it first
            raise DjangoValidationError(services.ARCHIVED_MESSAGE, code="archived")
        changes = _project_changes(project, serializer.validated_data)
        if changes:
            services.project_update(
                project=project, actor=request.user, version=if_match(request), **changes
            )
        else:
            _unchanged(request, project)
        return Response(self.as_saved(project))

    @extend_schema(
        summary="Archive a project",
        parameters=[IF_MATCH],
        request=None,
        responses=ProjectSerializer,
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the project (already archived: nothing changes)."""
        project = _managed(request, self.get_object())
        if not project.is_archived:
            services.project_archive(project=project, actor=request.user, version=if_match(request))
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Restore an archived project",
        parameters=[IF_MATCH],
        request=None,
        responses=ProjectSerializer,
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Restore the project (not archived: nothing changes)."""
        project = _managed(request, self.get_object())
        if project.is_archived:
            services.project_unarchive(
                project=project, actor=request.user, version=if_match(request)
            )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Role coverage of a project", responses=CoverageSerializer)
    @action(detail=True, methods=["get"])
    def coverage(self, request, pk=None):
        """The required roles, who holds each, and the gaps (the project page's matrix)."""
        project = _visible_project(request, pk, with_team=True)
        coverage = selectors.project_coverage(project=project, viewer=request.user)
        return Response(CoverageSerializer(selectors.coverage_matrix(coverage)).data)


# --- team -------------------------------------------------------------------------------


def account_state(user) -> str:
    """The state of a member's account (mlteam.people): "active", "invited" (not
    accepted yet) or "deactivated"."""
    if is_pending_invitee(user):
        return "invited"
    return "deactivated" if is_deactivated(user) else "active"


class AssignmentSerializer(serializers.Serializer):
    """A role a member holds on the project, with the share of their time."""

    id = serializers.IntegerField(read_only=True)
    role = RoleRefSerializer(read_only=True)
    allocation_percent = serializers.IntegerField(read_only=True)
    version = serializers.SerializerMethodField(
        help_text=_("The project's version (its team's changes move it on).")
    )

    def get_version(self, assignment) -> int:
        return self.context["project"].version


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    person = PersonRefSerializer(source="user", read_only=True)
    account = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    allocation_here = serializers.SerializerMethodField()
    allocation_total = serializers.SerializerMethodField(
        help_text=_("Across the active projects you may see.")
    )
    version = serializers.SerializerMethodField(
        help_text=_("The project's version (its team's changes move it on).")
    )

    @extend_schema_field(serializers.ChoiceField(choices=["active", "invited", "deactivated"]))
    def get_account(self, membership) -> str:
        return account_state(membership.user)

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_roles(self, membership) -> list:
        return AssignmentSerializer(membership.held, many=True, context=self.context).data

    def get_allocation_here(self, membership) -> int:
        return sum(assignment.allocation_percent for assignment in membership.held)

    def get_allocation_total(self, membership) -> int:
        return membership.allocation_total or 0

    def get_version(self, membership) -> int:
        return self.context["project"].version


class TeamSerializer(serializers.Serializer):
    project_id = serializers.IntegerField(source="pk", read_only=True)
    version = serializers.IntegerField(read_only=True)
    members = serializers.SerializerMethodField()

    @extend_schema_field(MembershipSerializer(many=True))
    def get_members(self, project) -> list:
        return MembershipSerializer(project.team, many=True, context={"project": project}).data


class AddMemberSerializer(BodySerializer):
    person = ReferenceField(
        missing=no_such(get_user_model()),
        queryset=get_user_model().objects.none(),
        help_text=_("Someone active who is not on the team yet."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Who may join: the rule the team page's add form validates with.
        field = self.fields["person"]
        project = self.context.get("project")
        if project is not None:  # (the schema's generator makes one without)
            field.queryset = selectors.team_candidates(project=project)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Someone the form does not offer because they are on the team already
            # (the team is visible to whoever may add to it): say so.
            project = self.context.get("project")
            person = data.get("person") if isinstance(data, Mapping) else None
            codes = [getattr(e, "code", None) for e in error.detail.get("person", [])]
            on_team = project is not None and any(
                str(m.user_id) == str(person).strip() for m in project.team
            )
            if on_team and codes == ["does_not_exist"]:
                raise serializers.ValidationError(
                    {
                        "person": [
                            exceptions.ErrorDetail(
                                _("This person is already on the team."), code="on_team"
                            )
                        ]
                    }
                ) from None
            raise


class TeamMixin:
    """The project of the URL and its team (the project page's read), for the team
    and its members' roles."""

    lookup_value_regex = r"\d+"
    pagination_class = None
    filter_backends: list = []

    def project(self) -> Project:
        return _visible_project(self.request, self.kwargs["project_pk"], with_team=True)

    def member(self, project: Project, pk) -> Membership:
        for membership in project.team:
            if str(membership.pk) == str(pk):
                return membership
        raise Http404

    def stored_membership(self, project: Project, pk) -> Membership:
        """The membership as the web's team actions load it, for the services."""
        membership = (
            Membership.objects.select_related("user").filter(pk=pk, project=project).first()
            if _pk_in_range(Membership, pk)
            else None
        )
        if membership is None:
            raise Http404
        membership.project = project
        return membership

    def represent_member(self, membership_pk) -> dict:
        project = self.project()
        return MembershipSerializer(
            self.member(project, membership_pk), context={"project": project}
        ).data


class _OneObjectSchema(AutoSchema):
    """A collection answered as one object (the team: its version and members),
    not a list: drf-spectacular would document every `list` as an array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


@extend_schema_view(
    list=extend_schema(
        summary="A project's team", parameters=[PROJECT_PK], operation_id="projects_team_list"
    ),
    retrieve=extend_schema(
        summary="A member of the team", parameters=[PROJECT_PK], responses=MembershipSerializer
    ),
    create=extend_schema(
        summary="Add a person to the team",
        parameters=[PROJECT_PK, IF_MATCH],
        request=AddMemberSerializer,
        responses={201: MembershipSerializer},
    ),
    destroy=extend_schema(
        summary="Remove a person from the team",
        parameters=[PROJECT_PK, IF_MATCH],
        responses={204: OpenApiResponse(description="Removed.")},
    ),
)
class TeamViewSet(TeamMixin, VersionedMixin, ViewSet):
    """The people on a project, their roles and allocation. Everyone who may see the
    project reads it (as on its page); its managers add and remove people (as on
    the team page). Its `version` is the project's: send it as If-Match."""

    serializer_class = TeamSerializer
    schema = _OneObjectSchema()

    def current_representation(self):
        try:
            if "pk" in self.kwargs:
                return self.represent_member(self.kwargs["pk"])
            return TeamSerializer(self.project()).data
        except Http404:
            return None

    def list(self, request, project_pk=None):
        return Response(TeamSerializer(self.project()).data)

    def retrieve(self, request, project_pk=None, pk=None):
        return Response(self.represent_member(pk))

    def create(self, request, project_pk=None):
        project = _managed(request, self.project())
        serializer = AddMemberSerializer(
            data=request.data, context={"request": request, "project": project}
        )
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(
            project=project,
            user=serializer.validated_data["person"],
            actor=request.user,
            version=if_match(request),
        )
        return _created(
            self.represent_member(membership.pk),
            "api:project-team-detail",
            project_pk=project.pk,
            pk=membership.pk,
        )

    def destroy(self, request, project_pk=None, pk=None):
        project = _managed(request, self.project())
        membership = self.stored_membership(project, pk)
        services.membership_remove(
            membership=membership, actor=request.user, version=if_match(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- role assignments -------------------------------------------------------------------


class AssignRoleSerializer(BodySerializer):
    role = ReferenceField(missing=no_such(Role), queryset=Role.objects.all())
    allocation_percent = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        default=100,
        help_text=_("Share of this person's working time spent in this role, 0 to 100."),
    )

    def validate_role(self, role: Role) -> Role:
        held = self.context["membership"].held
        if any(assignment.role_id == role.pk for assignment in held):
            raise serializers.ValidationError(
                _("This person already holds this role on the project.")
            )
        return role


class AllocationSerializer(BodySerializer):
    allocation_percent = serializers.IntegerField(
        min_value=0,
        max_value=100,
        help_text=_("Share of this person's working time spent in this role, 0 to 100."),
    )


@extend_schema_view(
    list=extend_schema(
        summary="The roles a member holds",
        parameters=[PROJECT_PK, MEMBERSHIP_PK],
        responses=AssignmentSerializer(many=True),
    ),
    retrieve=extend_schema(summary="A role a member holds", parameters=[PROJECT_PK, MEMBERSHIP_PK]),
    create=extend_schema(
        summary="Assign a role",
        parameters=[PROJECT_PK, MEMBERSHIP_PK, IF_MATCH],
        request=AssignRoleSerializer,
        responses={201: AssignmentSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an allocation",
        parameters=[PROJECT_PK, MEMBERSHIP_PK, IF_MATCH],
        request=AllocationSerializer,
        responses=AssignmentSerializer,
    ),
    destroy=extend_schema(
        summary="Unassign a role",
        parameters=[PROJECT_PK, MEMBERSHIP_PK, IF_MATCH],
        responses={204: OpenApiResponse(description="Unassigned.")},
    ),
)
class AssignmentViewSet(TeamMixin, VersionedMixin, ViewSet):
    """A member's roles on the project. Managers assign, re-allocate and unassign
    (as on the team page), with the project's version as If-Match."""

    serializer_class = AssignmentSerializer

    def held(self, project: Project, pk) -> RoleAssignment:
        membership = self.member(project, self.kwargs["membership_pk"])
        for assignment in membership.held:
            if str(assignment.pk) == str(pk):
                return assignment
        raise Http404

    def represent(self, pk) -> dict:
        project = self.project()
        return AssignmentSerializer(self.held(project, pk), context={"project": project}).data

    def current_representation(self):
        try:
            if "pk" in self.kwargs:
                return self.represent(self.kwargs["pk"])
            return self.represent_member(self.kwargs["membership_pk"])
        except Http404:
            return None

    def stored_assignment(self, project: Project, pk) -> RoleAssignment:
        """The assignment as the web's team actions load it, for the services."""
        self.held(project, pk)  # on this member, on this project
        return RoleAssignment.objects.select_related(
            "membership__user", "role", "membership__project"
        ).get(pk=pk)

    def list(self, request, project_pk=None, membership_pk=None):
        project = self.project()
        held = self.member(project, membership_pk).held
        return Response(AssignmentSerializer(held, many=True, context={"project": project}).data)

    def retrieve(self, request, project_pk=None, membership_pk=None, pk=None):
        return Response(self.represent(pk))

    def create(self, request, project_pk=None, membership_pk=None):
        project = _managed(request, self.project())
        membership = self.member(project, membership_pk)
        serializer = AssignRoleSerializer(
            data=request.data, context={"request": request, "membership": membership}
        )
        serializer.is_valid(raise_exception=True)
        assignment = services.role_assign(
            membership=self.stored_membership(project, membership_pk),
            role=serializer.validated_data["role"],
            allocation_percent=serializer.validated_data["allocation_percent"],
            actor=request.user,
            version=if_match(request),
        )
        return _created(
            self.represent(assignment.pk),
            "api:project-team-role-detail",
            project_pk=project.pk,
            membership_pk=membership.pk,
            pk=assignment.pk,
        )

    def partial_update(self, request, project_pk=None, membership_pk=None, pk=None):
        project = _managed(request, self.project())
        assignment = self.stored_assignment(project, pk)
        serializer = AllocationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        allocation = serializer.validated_data["allocation_percent"]
        if allocation != assignment.allocation_percent:
            services.assignment_update(
                assignment=assignment,
                allocation_percent=allocation,
                actor=request.user,
                version=if_match(request),
            )
        else:
            _unchanged(request, project)
        return Response(self.represent(pk))

    def destroy(self, request, project_pk=None, membership_pk=None, pk=None):
        project = _managed(request, self.project())
        assignment = self.stored_assignment(project, pk)
        services.role_unassign(assignment=assignment, actor=request.user, version=if_match(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- people -----------------------------------------------------------------------------


class PersonRoleSerializer(serializers.Serializer):
    role = RoleRefSerializer(read_only=True)
    allocation_percent = serializers.IntegerField(read_only=True)


class PersonProjectSerializer(serializers.Serializer):
    project_id = serializers.IntegerField(source="project.pk")
    project_name = serializers.CharField(source="project.name")
    roles = serializers.SerializerMethodField()

    @extend_schema_field(PersonRoleSerializer(many=True))
    def get_roles(self, membership) -> list:
        return PersonRoleSerializer(membership.assignments.all(), many=True).data


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    display_name = serializers.SerializerMethodField()
    first_name = serializers.CharField(read_only=True)
    last_name = serializers.CharField(read_only=True)
    total_allocation = serializers.IntegerField(
        read_only=True, help_text=_("Across the active projects you may see.")
    )
    projects = PersonProjectSerializer(source="visible_memberships", many=True, read_only=True)

    def get_display_name(self, user) -> str:
        return person_name(user)


@extend_schema_view(
    list=extend_schema(
        summary="People you may see",
        parameters=[OpenApiParameter("q", str, description=_("Name, username or email."))],
    ),
    retrieve=extend_schema(summary="A person"),
)
class PersonViewSet(ReadOnlyViewSet):
    """The people directory: the active people you may see (yourself and the teams
    of the projects you may see), with their roles on the active projects you may see."""

    serializer_class = PersonSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        form = PeopleFilterForm(form_query(PeopleFilterForm, self.request.query_params))
        if form.is_bound and not form.is_valid():
            raise form_errors(form)
        query = (form.values()["q"] or "").strip()
        return selectors.people_directory(user=self.request.user, query=query)

    def get_object(self):
        pk = self.kwargs["pk"]
        person = (
            selectors.people_directory(user=self.request.user).filter(pk=pk).first()
            if _pk_in_range(get_user_model(), pk)
            else None
        )
        if person is None:
            raise Http404
        return person


class RoleViewSet(ReadOnlyViewSet):
    """The role catalogue (admins edit it in the Django admin)."""

    serializer_class = RoleSerializer
    queryset = Role.objects.order_by("position", "name", "pk")
    pagination_class = None  # a handful of roles


# (URL prefix, viewset, basename): registered under /api/v1/ by mlteam/api/urls.py.
ROUTES = [
    ("roles", RoleViewSet, "role"),
    ("projects", ProjectViewSet, "project"),
    (r"projects/(?P<project_pk>\d+)/team", TeamViewSet, "project-team"),
    (
        r"projects/(?P<project_pk>\d+)/team/(?P<membership_pk>\d+)/roles",
        AssignmentViewSet,
        "project-team-role",
    ),
    ("people", PersonViewSet, "person"),
]
