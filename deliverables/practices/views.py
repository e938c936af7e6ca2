"""Team handbook pages (review cycles and reviews: `deliverables.reviews.views`).

Views fetch through selectors (404 for a project the viewer may not see), check
the rule in `permissions` (403 for what they see but may not change), validate
a form, call one service and redirect with a message. A refused save shows the
form again, input kept.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mlteam.forms import form_add_service_errors, form_reoffer
from roles import selectors as roles_selectors
from roles.models import Project

from ..permissions import can_change_checklist, can_update_deliverable
from . import permissions, selectors, services
from .forms import ConfirmForm, HandbookQuestionForm, ReviewDateForm


def _project_or_404(request: HttpRequest, pk: int) -> Project:
    project = roles_selectors.project_get_for_user(user=request.user, pk=pk, with_team=False)
    if project is None:
        raise Http404
    return project


# --- handbook -----------------------------------------------------------------------------


def _handbook_page(request, project, *, question_form=None, date_form=None, status=200):
    handbook = selectors.project_handbook(project=project, today=timezone.localdate())
    can_setup = permissions.can_edit_handbook_setup(request.user, project)
    # Done, its questions and answers are what was approved (`checklist_locked`).
    locked = bool(handbook.deliverable and handbook.deliverable.checklist_locked)
    context = {
        "project": project,
        "handbook": handbook,
        "areas": handbook.areas(),
        "can_setup": can_setup,
        "can_change_questions": can_setup and not locked,
        "can_reopen": locked
        and can_setup
        and can_update_deliverable(request.user, handbook.deliverable),
        "can_answer": bool(
            handbook.deliverable and can_change_checklist(request.user, handbook.deliverable)
        ),
        "can_plan": can_setup,
    }
    if can_setup:
        context["question_form"] = question_form or HandbookQuestionForm()
        context["date_form"] = date_form or _review_date_form(project)
    return render(request, "practices/handbook.html", context, status=status)


def _review_date_form(project: Project, data=None) -> ReviewDateForm:
    return ReviewDateForm(
        data, initial={"review_on": project.handbook_review_on, "version": project.version}
    )


@require_GET
def handbook(request: HttpRequest, pk: int) -> HttpResponse:
    return _handbook_page(request, _project_or_404(request, pk))


@require_GET
def handbook_newcomer(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project_or_404(request, pk)
    book = selectors.project_handbook(project=project, today=timezone.localdate())
    return render(
        request,
        "practices/handbook_newcomer.html",
        {"project": project, "handbook": book, "areas": book.newcomer_areas()},
    )


def _setup_project_or_403(request: HttpRequest, pk: int) -> Project:
    project = _project_or_404(request, pk)
    if not permissions.can_edit_handbook_setup(request.user, project):
        raise PermissionDenied
    return project


@require_POST
def handbook_review_date(request: HttpRequest, pk: int) -> HttpResponse:
    project = _setup_project_or_403(request, pk)
    form = _review_date_form(project, request.POST)
    if form.is_valid():
        try:
            # Saved only when the person changed it: an unchanged date writes nothing
            # (no new project version to refuse someone else's form).
            if form.changes():
                services.handbook_review_date_set(
                    project=project,
                    actor=request.user,
                    review_on=form.cleaned_data["review_on"],
                    version=form.cleaned_data["version"],
                )
        except ValidationError as error:
            project = _project_or_404(request, pk)  # as saved now
            form = form_reoffer(form, _review_date_form(project), error)
        else:
            review_on = form.cleaned_data["review_on"]
            if review_on and review_on < timezone.localdate():
                messages.warning(
                    request,
                    _(
                        "Review date saved. It has already passed, so the handbook "
                        "shows as due for review."
                    ),
                )
            else:
                messages.success(request, _("Review date saved."))
            return redirect("practices:handbook", pk=project.pk)
    return _handbook_page(request, project, date_form=form, status=400)


@require_POST
def handbook_question_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _setup_project_or_403(request, pk)
    deliverable = selectors.handbook_deliverable(project=project)
    form = HandbookQuestionForm(request.POST)
    if deliverable is None:
        form.add_error(None, _("Plan the team process documentation first."))
    elif form.is_valid():
        try:
            services.handbook_question_add(
                deliverable=deliverable, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Question added to the handbook."))
            return redirect("practices:handbook", pk=project.pk)
    return _handbook_page(request, project, question_form=form, status=400)


@require_http_methods(["GET", "POST"])
def handbook_question_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    project = _setup_project_or_403(request, pk)
    item = selectors.handbook_item_get(project=project, pk=item_pk)
    if item is None or not item.project_question:
        raise Http404
    form = _question_remove_form(item, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.handbook_question_remove(
                item=item, actor=request.user, version=form.cleaned_data["version"]
            )
        except ValidationError as error:
            item = selectors.handbook_item_get(project=project, pk=item_pk)
            if item is None:  # removed meanwhile
                messages.info(request, _("This question was removed meanwhile."))
                return redirect("practices:handbook", pk=project.pk)
            form = form_reoffer(form, _question_remove_form(item), error)
        else:
            messages.success(request, _("Question removed from the handbook."))
            return redirect("practices:handbook", pk=project.pk)
    return render(
        request,
        "roles/confirm.html",
        {
            "form": form,
            "title": _("Remove a handbook question"),
            "question": _("Remove “%(text)s” and its answer from the handbook?")
            % {"text": item.display_text},
            "button": _("Remove question"),
            "cancel_url": reverse("practices:handbook", args=[project.pk]),
            "danger": True,
        },
        status=400 if form.is_bound else 200,
    )


def _question_remove_form(item, data=None) -> ConfirmForm:
    """The version is the handbook deliverable's: the question's answer is part of it."""
    return ConfirmForm(data, initial={"version": item.deliverable.version})
