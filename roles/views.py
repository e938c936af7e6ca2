"""Projects, teams, coverage, the role catalogue and the people directory.

Views fetch through permission-aware selectors (404 for what the user may not
see), validate a form, call one service and redirect with a message. Team
actions answer htmx requests with the re-rendered team panel instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from mlteam.forms import form_add_service_errors, form_reoffer
from mlteam.links import row_url
from mlteam.people import is_deactivated, is_pending_invitee, person_name

from . import selectors, services
from .forms import (
    AddMemberForm,
    AllocationForm,
    AssignRoleForm,
    ConfirmForm,
    CoverageFilterForm,
    InviteForm,
    ProjectForm,
    RoleCatalogue,
    TeamFindForm,
    person_label,
)
from .models import Membership, Project, Role, RoleAssignment
from .permissions import can_create_project, can_manage_project
from .tokens import invitation_token_generator

PAGE_SIZE = 20


def project_or_404(request: HttpRequest, pk: int, *, with_team: bool = True) -> Project:
    """The project if the user may see it (with its team unless not needed), else 404."""
    project = selectors.project_get_for_user(user=request.user, pk=pk, with_team=with_team)
    if project is None:
        raise Http404
    return project


def _managedproject_or_404(request: HttpRequest, pk: int, *, with_team: bool = True) -> Project:
    """A project the user manages. Visible but not theirs to change: 403."""
    project = project_or_404(request, pk, with_team=with_team)
    if not can_manage_project(request.user, project):
        raise PermissionDenied
    return project


# --- projects ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    if not can_create_project(request.user):
        raise PermissionDenied
    form = ProjectForm(
        request.POST or None,
        initial={
            "managers": [request.user.pk],
            "required_roles": [r.pk for r in selectors.role_catalogue() if r.required_by_default],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            project = services.project_create(actor=request.user, **data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Project created. Now add people to its team."))
            return redirect("roles:project_team", pk=project.pk)
    return render(request, "roles/project_form.html", {"form": form, "project": None})


@require_http_methods(["GET", "POST"])
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    if project.is_archived:
        messages.error(request, _("This project is archived. Restore it before changing it."))
        return redirect("roles:project_detail", pk=project.pk)
    form = _project_form(project, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        # Only what the person changed, as the admin saves it: a save that changes
        # nothing writes nothing (no empty history entry, no new version that
        # would refuse someone else's form).
        changes = form.changes()
        try:
            if changes:
                services.project_update(
                    project=project,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    **changes,
                )
        except ValidationError as error:
            status = 409 if getattr(error, "code", None) == "stale" else 422
            project = project_or_404(request, pk)  # as saved now
            form = form_reoffer(form, _project_form(project), error)
        else:
            messages.success(request, _("Project saved."))
            return redirect("roles:project_detail", pk=project.pk)
    return render(
        request, "roles/project_form.html", {"form": form, "project": project}, status=status
    )


def _project_form(project: Project, data=None) -> ProjectForm:
    return ProjectForm(
        data,
        project=project,
        initial={
            "version": project.version,
            "name": project.name,
            "business_problem": project.business_problem,
            "managers": list(project.managers.all()),
            "status": project.status,
            "start_date": project.start_date,
            "target_date": project.target_date,
            "escalation_days": project.escalation_days,
            "required_roles": list(project.required_roles.all()),
        },
    )


def _confirm(request, *, project, title, question, button, action, cancel_url, danger=True):
    """GET: a confirmation page. POST: run `action(version)`.

    Returns True when the action ran, False when it was refused inside an htmx
    request (the reason is queued as a message for the team panel), or the
    confirmation page to show (again, with the reason, when it was refused).
    """
    form = ConfirmForm(request.POST or None, initial={"version": project.version})
    if request.method == "POST" and form.is_valid():
        try:
            action(form.cleaned_data["version"])
        except ValidationError as error:
            if request.htmx:  # the team panel shows it as a message
                for message in error.messages:
                    messages.error(request, message)
                return False
            project.refresh_from_db(fields=["version"])
            form = form_reoffer(form, ConfirmForm(initial={"version": project.version}), error)
        else:
            return True
    return render(
        request,
        "roles/confirm.html",
        {
            "project": project,
            "form": form,
            "title": title,
            "question": question,
            "button": button,
            "cancel_url": cancel_url,
            "danger": danger,
        },
        status=409 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def project_archive(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    if project.is_archived:
        return redirect("roles:project_detail", pk=project.pk)
    response = _confirm(
        request,
        project=project,
        title=_("Archive project"),
        question=_(
            "Archive %(name)s? It leaves the lists and dashboards and can no longer be "
            "changed until it is restored."
        )
        % {"name": project.name},
        button=_("Archive"),
        action=lambda version: services.project_archive(
            project=project, actor=request.user, version=version
        ),
        cancel_url=reverse("roles:project_detail", args=[project.pk]),
    )
    if isinstance(response, HttpResponse):
        return response
    if not response:
        return redirect("roles:project_detail", pk=project.pk)
    messages.success(request, _("Project archived. Find it under Archived projects."))
    return redirect("roles:project_list")


@require_http_methods(["GET", "POST"])
def project_unarchive(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    if not project.is_archived:
        return redirect("roles:project_detail", pk=project.pk)
    response = _confirm(
        request,
        project=project,
        title=_("Restore project"),
        question=_("Restore %(name)s so that it can be worked on again?") % {"name": project.name},
        button=_("Restore"),
        action=lambda version: services.project_unarchive(
            project=project, actor=request.user, version=version
        ),
        cancel_url=reverse("roles:project_detail", args=[project.pk]),
        danger=False,
    )
    if isinstance(response, HttpResponse):
        return response
    if response:
        messages.success(request, _("Project restored."))
    return redirect("roles:project_detail", pk=project.pk)


# --- team -------------------------------------------------------------------------------


def _team_context(
    request, project: Project, *, refetch: bool = True, refused=None, added=False, **failed
) -> dict:
    """The team panel: the matrix (people x roles), the gaps and notes, the row to
    add a person and the invitation. `failed` holds a form that was not saved
    (`add_form`, `invite_form`): shown as sent when it did not validate, offered
    again over the current team when a service refused it (`refused`). `added`: the
    answer to a change that went through (see _search_shown)."""
    if refetch:  # after a change: the fresh team and version
        project = project_or_404(request, project.pk)

    def offer(name: str, fresh):
        form = failed.get(name)
        if form is None:
            return fresh
        return form_reoffer(form, fresh, refused) if refused is not None else form

    coverage = selectors.coverage_matrix(
        selectors.project_coverage(project=project, viewer=request.user)
    )
    roles = list(selectors.role_catalogue_plain())
    catalogue = RoleCatalogue(roles)
    context = {
        "project": project,
        "coverage": coverage,
        "add_form": offer(
            "add_form",
            AddMemberForm(
                project=project, catalogue=catalogue, initial={"version": project.version}
            ),
        ),
        "invite_form": offer("invite_form", InviteForm(initial={"version": project.version})),
        **_candidates_context(request, project, added=added),
    }
    if not project.is_archived:
        context.update(_matrix_context(project, coverage, roles))
    return context


def _cell_url(project: Project):
    """The cell editor's address as a function of (membership id, role id)."""
    head = reverse("roles:team_cell", args=[project.pk, 1, 2])
    head = head.removesuffix("1/roles/2/")
    return lambda membership_pk, role_pk: f"{head}{membership_pk}/roles/{role_pk}/"


def _matrix_context(project: Project, coverage, roles) -> dict:
    """The matrix as the team page draws it: each row's person (account state,
    removal), each cell's address and spoken label, and the gaps with who holds
    each role elsewhere (a one-click add, or their cell when on the team)."""
    matrix = selectors.team_matrix(coverage, roles)
    members = {membership.pk: membership for membership in project.team}
    by_user = {membership.user_id: membership.pk for membership in project.team}
    cell_url = _cell_url(project)
    remove_url = row_url("roles:team_remove", project.pk)
    rows = []
    for row in matrix.rows:
        membership = members[row.person.membership_id]
        name = row.person.name
        deactivated = is_deactivated(membership.user)
        cells = []
        for cell in row.cells:
            values = {"role": cell.role_name, "name": name, "allocation": cell.allocation}
            if cell.allocation is not None:
                label = _("%(name)s as %(role)s: %(allocation)s%%. Change or remove") % values
            elif deactivated:
                label = _("%(name)s is not %(role)s (deactivated: no new role)") % values
            else:
                label = _("Give %(name)s the role %(role)s") % values
            cells.append(
                {
                    "allocation": cell.allocation,
                    "url": None
                    if deactivated and cell.allocation is None
                    else cell_url(membership.pk, cell.role_id),
                    "label": label,
                    "key": f"{membership.pk}-{cell.role_id}",
                }
            )
        rows.append(
            {
                "person": row.person,
                "membership": membership,
                "deactivated": deactivated,
                "invited": not deactivated and not membership.user.is_active,
                "remaining": row.remaining,
                "remove_url": remove_url(membership.pk),
                # Worded here rather than by a {% blocktranslate %} per row.
                "remove_question": _(
                    "Remove %(name)s from the team? Their roles here are unassigned and "
                    "their deliverables on this project lose their owner."
                )
                % {"name": name},
                "cells": cells,
            }
        )
    gaps = []
    for row in coverage.rows:
        if row.filled:
            continue
        suggestions = []
        for suggestion in row.suggestions:
            membership_pk = by_user.get(suggestion.user_id)
            suggestions.append(
                {
                    "suggestion": suggestion,
                    "cell_url": None
                    if membership_pk is None
                    else cell_url(membership_pk, row.role_id),
                    "cell_key": f"{membership_pk}-{row.role_id}",
                    "add_label": _("Add %(name)s as %(role)s")
                    % {"name": suggestion.name, "role": row.role_name},
                }
            )
        gaps.append({"role_id": row.role_id, "name": row.role_name, "suggestions": suggestions})
    return {"matrix": matrix, "matrix_rows": rows, "gaps": gaps}


def _find_query(request) -> str:
    """The search for people to add: the team page's `?find=`, or the one the add
    form was sent from (so the page that answers it shows the same matches)."""
    data = request.POST if request.method == "POST" else request.GET
    return TeamFindForm(data).values()["find"] or ""


def _team_url(project: Project, query: str) -> str:
    """The team page, showing the matches of `query` (if any)."""
    url = reverse("roles:project_team", args=[project.pk])
    return f"{url}?{urlencode({'find': query})}" if query else url


def _search_shown(request, project: Project, *, added: bool = False):
    """The search for people to add that the answer to `request` shows: the same
    matches, to add the next person; after a change that went through (`added`) and
    left the search with no match (its one match joined), an empty search rather
    than "nobody matches"."""
    query = _find_query(request)
    search = selectors.team_candidate_search(project=project, query=query)
    if added and query and not search.people:
        return selectors.team_candidate_search(project=project, query="")
    return search


def _candidates_context(request, project: Project, *, added: bool = False) -> dict:
    """The "Add a person" card's search box and its matches (`_team_candidates.html`)."""
    search = _search_shown(request, project, added=added)
    query = search.query
    candidates = []
    for user in search.people:
        label = person_label(user)
        candidates.append(
            {
                "pk": user.pk,
                "label": label,
                "add_label": _("Add %(person)s to the team") % {"person": label},
            }
        )
    return {
        "find_form": TeamFindForm({"find": query} if query else None),
        "search": search,
        "candidates": candidates,
    }


def _team_response(
    request,
    project: Project,
    *,
    message: str | None = None,
    status: int = 200,
    refused=None,
    **failed,
):
    """After a team action: for htmx, the matrix (with the add row) and, out of band,
    the summary (messages, gaps, notes) and the invitation; else back to the team page."""
    if message and not failed:
        messages.success(request, message)
    if request.htmx:
        # htmx swaps only 2xx answers; form errors are shown inside the panel.
        return render(
            request,
            "roles/_team_update.html",
            _team_context(
                request, project, refused=refused, added=refused is None and not failed, **failed
            ),
        )
    if failed:
        return render(
            request,
            "roles/project_team.html",
            _team_context(request, project, refused=refused, **failed),
            status=status,
        )
    return redirect(_team_url(project, _search_shown(request, project, added=True).query))


@require_GET
def project_team(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    return render(
        request, "roles/project_team.html", _team_context(request, project, refetch=False)
    )


@require_GET
def team_candidates(request: HttpRequest, pk: int) -> HttpResponse:
    """The matches of a search for people to add (htmx swaps them into the
    "Add a person" card; without JavaScript the team page draws them itself)."""
    project = _managedproject_or_404(request, pk, with_team=False)  # the search reads it
    context = {"project": project, "oob": True, **_candidates_context(request, project)}
    response = render(request, "roles/_team_candidates.html", context)
    if request.htmx:  # the address names the search, as the page without JavaScript
        response["HX-Replace-Url"] = _team_url(project, context["search"].query)
    return response


@require_POST
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a person, and at once (given one) a role with an allocation: by default
    what is left of their time."""
    project = _managedproject_or_404(request, pk)
    form = AddMemberForm(
        request.POST,
        project=project,
        catalogue=RoleCatalogue(selectors.role_catalogue_plain()),
    )
    if form.is_valid():
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        allocation = form.cleaned_data["allocation_percent"]
        if role is not None and allocation is None:
            allocation = selectors.remaining_capacity(
                selectors.person_allocation_total(user_id=user.pk, viewer=request.user)
            )
        try:
            services.member_staff(
                project=project,
                user=user,
                role=role,
                allocation_percent=allocation or 0,
                actor=request.user,
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            return _team_response(request, project, status=422, refused=error, add_form=form)
        else:
            names = {"name": person_name(user)}
            return _team_response(
                request,
                project,
                message=(
                    _("%(name)s joined the team as %(role)s.")
                    % {**names, "role": role.display_name}
                    if role is not None
                    else _("%(name)s joined the team.") % names
                ),
            )
    return _team_response(request, project, status=422, add_form=form)


@require_POST
def team_invite(request: HttpRequest, pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def accept_url(uid: str, token: str) -> str:
            return request.build_absolute_uri(reverse("invitation_accept", args=[uid, token]))

        try:
            membership, invited = services.member_invite(
                project=project,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                actor=request.user,
                version=data["version"],
                accept_url=accept_url,
            )
        except ValidationError as error:
            return _team_response(request, project, status=422, refused=error, invite_form=form)
        else:
            name = membership.user.get_full_name() or data["email"]
            message = (
                _("Invitation sent to %(email)s. They join once they choose a password.")
                if invited
                else _("%(name)s already had an account and joined the team.")
            ) % {"email": data["email"], "name": name}
            return _team_response(request, project, message=message)
    return _team_response(request, project, status=422, invite_form=form)


@require_http_methods(["GET", "POST"])
def team_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, project=project
    )
    name = person_name(membership.user)
    response = _confirm(
        request,
        project=project,
        title=_("Remove from team"),
        question=_(
            "Remove %(name)s from %(project)s? Their roles here are unassigned and their "
            "deliverables on this project lose their owner."
        )
        % {"name": name, "project": project.name},
        button=_("Remove"),
        action=lambda version: services.membership_remove(
            membership=membership, actor=request.user, version=version
        ),
        cancel_url=reverse("roles:project_team", args=[project.pk]),
    )
    if isinstance(response, HttpResponse):
        return response
    return _team_response(
        request,
        project,
        message=_("%(name)s was removed from the team.") % {"name": name} if response else None,
    )


@require_POST
def team_assign(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """An empty cell of the matrix: give the person that role (the cell editor's form)."""
    project = _managedproject_or_404(request, pk)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, project=project
    )
    form = AssignRoleForm(
        request.POST,
        held=membership.assignments.all(),
        catalogue=RoleCatalogue(selectors.role_catalogue_plain()),
        prefix=f"m{membership.pk}",
    )
    if form.is_valid():
        role = form.cleaned_data["role"]
        try:
            services.role_assign(
                membership=membership,
                role=role,
                allocation_percent=form.cleaned_data["allocation_percent"],
                actor=request.user,
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            # Deactivated meanwhile: no form to offer again, the matrix says why.
            if getattr(error, "code", None) == "inactive":
                messages.error(request, " ".join(error.messages))
                return _team_response(request, project)
            project = project_or_404(request, pk, with_team=False)  # as saved now
            fresh = _assign_form(request, project, membership, role)
            form = form_reoffer(form, fresh, error)
            return _cell_editor(request, project, membership, role, None, form=form, status=422)
        else:
            return _team_response(
                request,
                project,
                message=_("%(name)s is now %(role)s.")
                % {"name": person_name(membership.user), "role": role.display_name},
            )
    role = _role_from(form)
    if role is None:  # no cell to show the form in: the team page says why
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return (
            _team_response(request, project)
            if request.htmx
            else redirect("roles:project_team", pk=project.pk)
        )
    return _cell_editor(request, project, membership, role, None, form=form, status=422)


def _role_from(form: AssignRoleForm) -> Role | None:
    """The role an assign form was sent for, valid or not (None: none of the catalogue)."""
    try:
        return form.roles.get(int(form.data.get(form.add_prefix("role"), "")))
    except ValueError:
        return None


def _assign_form(
    request, project: Project, membership: Membership, role: Role, data=None
) -> AssignRoleForm:
    """An empty cell's form: the role, and what is left of the person's time."""
    total = selectors.person_allocation_total(user_id=membership.user_id, viewer=request.user)
    return AssignRoleForm(
        data,
        held=membership.assignments.all(),
        catalogue=RoleCatalogue(selectors.role_catalogue_plain()),
        initial={
            "version": project.version,
            "role": role.pk,
            "allocation_percent": selectors.remaining_capacity(total),
        },
        prefix=f"m{membership.pk}",
    )


@require_GET
def team_cell(request: HttpRequest, pk: int, membership_pk: int, role_pk: int) -> HttpResponse:
    """A cell of the matrix: give the role (empty), or change or remove it (held).
    A small page without JavaScript; the editor alone for htmx (a dialog)."""
    project = _managedproject_or_404(request, pk, with_team=False)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_pk, project=project
    )
    role = get_object_or_404(Role, pk=role_pk)
    assignment = (
        RoleAssignment.objects.filter(membership=membership, role=role)
        .select_related("role")
        .first()
    )
    return _cell_editor(request, project, membership, role, assignment)


def _cell_editor(
    request,
    project: Project,
    membership: Membership,
    role: Role,
    assignment: RoleAssignment | None,
    *,
    form=None,
    status: int = 200,
) -> HttpResponse:
    """The cell editor: a page of its own, or (htmx) the dialog's content, swapped
    into the dialog even when it answers a form the matrix would otherwise take."""
    if assignment is not None:
        form = form or _allocation_form(project, assignment)
        action = reverse("roles:assignment_edit", args=[project.pk, assignment.pk])
    elif not is_deactivated(membership.user):
        form = form or _assign_form(request, project, membership, role)
        action = reverse("roles:team_assign", args=[project.pk, membership.pk])
    else:
        action = None  # a deactivated person takes on no new role (role_assign)
    context = {
        "project": project,
        "membership": membership,
        "person_name": person_name(membership.user),
        "role": role,
        "assignment": assignment,
        "form": form,
        "action": action,
        # A form on its own page posts to the page itself (no action attribute).
        "page_action": None if action == request.path and not request.htmx else action,
        "cell_key": f"{membership.pk}-{role.pk}",
        "unassign_url": assignment
        and reverse("roles:assignment_remove", args=[project.pk, assignment.pk]),
    }
    if request.htmx:
        response = render(request, "roles/_team_cell_editor.html", context)
        if request.method == "POST":
            response = retarget(reswap(response, "innerHTML"), "#cell-editor-body")
        return response
    return render(request, "roles/team_cell.html", context, status=status)


def _assignment_or_404(project: Project, assignment_pk: int) -> RoleAssignment:
    return get_object_or_404(
        RoleAssignment.objects.select_related("membership__user", "role", "membership__project"),
        pk=assignment_pk,
        membership__project=project,
    )


@require_http_methods(["GET", "POST"])
def assignment_edit(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    """A filled cell of the matrix: change the allocation (the cell editor's form)."""
    project = _managedproject_or_404(request, pk, with_team=False)
    assignment = _assignment_or_404(project, assignment_pk)
    form = _allocation_form(project, assignment, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if form.changes():  # unchanged: nothing written, no new project version
                services.assignment_update(
                    assignment=assignment,
                    allocation_percent=form.cleaned_data["allocation_percent"],
                    actor=request.user,
                    version=form.cleaned_data["version"],
                )
        except ValidationError as error:
            project = project_or_404(request, pk, with_team=False)  # as saved now
            assignment = _assignment_or_404(project, assignment_pk)
            form = form_reoffer(form, _allocation_form(project, assignment), error)
            status = 422
        else:
            return _team_response(request, project, message=_("Allocation saved."))
    elif request.method == "POST":
        status = 422
    membership = assignment.membership
    return _cell_editor(
        request, project, membership, assignment.role, assignment, form=form, status=status
    )


def _allocation_form(project: Project, assignment: RoleAssignment, data=None) -> AllocationForm:
    return AllocationForm(
        data,
        initial={"version": project.version, "allocation_percent": assignment.allocation_percent},
    )


@require_http_methods(["GET", "POST"])
def assignment_remove(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    project = _managedproject_or_404(request, pk)
    assignment = _assignment_or_404(project, assignment_pk)
    user = assignment.membership.user
    response = _confirm(
        request,
        project=project,
        title=_("Unassign role"),
        question=_("Unassign %(role)s from %(name)s on %(project)s?")
        % {
            "role": assignment.role.display_name,
            "name": person_name(user),
            "project": project.name,
        },
        button=_("Unassign"),
        action=lambda version: services.role_unassign(
            assignment=assignment, actor=request.user, version=version
        ),
        cancel_url=reverse("roles:project_team", args=[project.pk]),
    )
    if isinstance(response, HttpResponse):
        return response
    return _team_response(request, project, message=_("Role unassigned.") if response else None)


# --- coverage, roles, people ------------------------------------------------------------


@require_GET
def portfolio_coverage(request: HttpRequest) -> HttpResponse:
    query = CoverageFilterForm(request.GET).values()
    sort = query["sort"] or "-gaps"
    projects = selectors.portfolio_coverage(user=request.user, sort=sort)
    page = Paginator(projects, PAGE_SIZE).get_page(query["page"])
    for project in page:
        project.unfilled = selectors.unfilled_roles(project)
    return render(request, "roles/portfolio_coverage.html", {"page_obj": page, "sort": sort})


@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    return render(request, "roles/role_list.html", {"roles": selectors.role_catalogue()})


@require_GET
def role_detail(request: HttpRequest, slug: str) -> HttpResponse:
    role = selectors.role_get(slug=slug)
    if role is None:
        raise Http404
    return render(
        request,
        "roles/role_detail.html",
        {"role": role, "holders": selectors.role_holders(role=role, user=request.user)},
    )


# --- invitations ------------------------------------------------------------------------


class InvitationAcceptView(PasswordResetConfirmView):
    """The link in an invitation: choose a password, which activates the account.

    Only pending invitees get through; their tokens differ from password-reset ones.
    """

    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("home")
    token_generator = invitation_token_generator

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and is_pending_invitee(user) else None

    def form_valid(self, form):
        """Activate the account and sign the person in (a new session), then home.

        The service activates the account only if it still is a pending invitation,
        so of two uses of one link exactly one gets through; the other sees the
        link's end. The token leaves the session either way.
        """
        self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        try:
            services.invitation_accept(user=form.user, password=form.cleaned_data["new_password1"])
        except ValidationError:
            self.validlink = False
            return self.render_to_response(self.get_context_data())
        # The backend a sign-in with the new password uses (the one that checks passwords).
        login(self.request, form.user, backend="mlteam.auth.PermissionBackend")
        messages.success(
            self.request, _("Welcome to MLTeam. Your password is set and you are signed in.")
        )
        return redirect(self.success_url)


invitation_accept = login_not_required(InvitationAcceptView.as_view())
