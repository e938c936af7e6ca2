"""The pages about projects and people that also show work: the project list
with open-deliverable counts, the project page with its dashboard and activity,
and the people directory with each person's load.

They keep their `roles:` URL names (mlteam/urls.py puts them in that namespace),
but live on the deliverables side: roles never imports deliverables, the higher
layer composes the lower one.
"""

from __future__ import annotations

from functools import partial

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from mlteam.cache import KeptScope, cached
from mlteam.forms import QueryForm
from roles import selectors as roles_selectors
from roles.forms import PeopleFilterForm, ProjectFilterForm
from roles.permissions import can_create_project, can_manage_project
from roles.views import PAGE_SIZE, project_or_404

from . import extensions, selectors


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectFilterForm(
        request.GET, managers=roles_selectors.project_manager_choices(user=request.user)
    )
    filters = form.values()  # an invalid parameter is left out, the valid ones apply
    manager = filters["manager"]
    sort = filters["sort"] or "name"
    projects = selectors.project_list(
        user=request.user,
        query=filters["q"] or "",
        status=filters["status"] or "",
        manager_id=manager.pk if manager else None,
        archived=bool(filters["archived"]),
        sort=sort,
    )
    page = Paginator(projects, PAGE_SIZE).get_page(filters["page"])
    return render(
        request,
        "roles/project_list.html",
        {
            "filter_form": form,
            "page_obj": page,
            "sort": sort,
            "can_create": can_create_project(request.user),
            "filtered": any(filters[name] for name in ("q", "status", "manager", "archived")),
        },
    )


PROJECT_PAGE_ACTIVITY = 15  # the newest changes; the activity page has them all


@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    today = timezone.localdate()
    # The scope `cached` reads before computing the page holds the ids of the
    # projects the viewer may see: the page looks its project up among them rather
    # than building and running that condition again.
    scope = KeptScope(partial(roles_selectors.dashboard_scope, user=request.user))

    def page() -> dict | None:
        visible = scope.ids()  # None for those who see every project: no condition
        project = roles_selectors.project_get_for_user(
            user=request.user, pk=pk, with_team=False, with_managers=True, visible=visible
        )
        if project is None:
            return None
        # The team's allocation totals read the viewer's visible projects too: their
        # ids, not the condition again (~1 ms less to build, compile and plan).
        coverage = roles_selectors.project_coverage(
            project=project, viewer=request.user, visible=visible
        )
        # Plain values only (mlteam/cache.py): the project as its header shows it.
        return {
            "project": roles_selectors.project_summary(project),
            "coverage": roles_selectors.coverage_matrix(coverage),
            "activity": selectors.project_activity(
                project=project, limit=PROJECT_PAGE_ACTIVITY + 1
            ),
            "work": selectors.project_dashboard(project=project, today=today),
            "can_manage": can_manage_project(request.user, project),
            # What nested apps add (readiness, cards, linked artifacts) is fetched by
            # the page once drawn (project_panels): its first answer does not wait.
            "has_panels": bool(list(extensions.project_panels)),
        }

    # Everything here, visibility included, is recomputed after any change to it:
    # the team's allocation totals and suggestions read the viewer's other projects.
    # ("project-dashboard": entries of the page as it was before its panels moved
    # out are not read.)
    context = cached("project-dashboard", request.user, (pk, today), page, scope)
    if context is None:
        raise Http404
    activity = context["activity"]
    context = {
        **context,
        "activity": activity[:PROJECT_PAGE_ACTIVITY],
        "more_activity": len(activity) > PROJECT_PAGE_ACTIVITY,
        "handbook": context["work"].handbook,
    }
    return render(request, "roles/project_detail.html", context)


@require_GET
def project_panels(request: HttpRequest, pk: int) -> HttpResponse:
    """The sections nested apps add to the project page (the readiness scores, the
    model cards and datasheets, the linked artifacts' states), fetched by the page
    once it is drawn, so that its first answer does not wait for them. Cached like
    the page, under the same versions. Without JavaScript the page links here, and
    this answers a page of its own."""
    today = timezone.localdate()
    scope = KeptScope(partial(roles_selectors.dashboard_scope, user=request.user))

    def sections() -> dict | None:
        project = roles_selectors.project_get_for_user(
            user=request.user, pk=pk, with_team=False, visible=scope.ids()
        )
        if project is None:
            return None
        return {
            "project": {"pk": project.pk, "name": project.name},
            # Plain data (mlteam/cache.py): each panel's template and context.
            "panels": [
                panel
                for entry in extensions.project_panels
                if (panel := entry.panel(user=request.user, project=project)) is not None
            ],
        }

    context = cached("project-panels", request.user, (pk, today), sections, scope)
    if context is None:
        raise Http404
    template = "roles/_project_panels.html" if request.htmx else "roles/project_panels.html"
    return render(request, template, context)


ACTIVITY_PAGE_SIZE = 50
ACTIVITY_MAX_PAGES = 40  # 2,000 entries: older history is in the admin


@require_GET
def project_activity(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_or_404(request, pk)
    paginator = Paginator(selectors.ProjectActivity(project), ACTIVITY_PAGE_SIZE)
    number = min(QueryForm(request.GET).values()["page"] or 1, ACTIVITY_MAX_PAGES)
    return render(
        request,
        "roles/project_activity.html",
        {"project": project, "page_obj": paginator.get_page(number)},
    )


@require_GET
def people_list(request: HttpRequest) -> HttpResponse:
    filters = PeopleFilterForm(request.GET).values()
    query = (filters["q"] or "").strip()
    people = selectors.people_directory(user=request.user, query=query)
    page = Paginator(people, PAGE_SIZE).get_page(filters["page"])
    return render(request, "roles/people_list.html", {"page_obj": page, "query": query})
