"""Review cycles and reviews.

Views fetch through selectors (404 for what the viewer may not see: a review of
someone else is never confirmed to exist, `Review.objects.visible_to`), check the
rule in `permissions` (403 for what they see but may not change), validate a
form, call one service and redirect with a message. A refused save shows the
form again, input kept. Every page that shows what a review says records the
read (`_record_read`, the access log), the person's own reads excepted.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mlteam.forms import QueryForm, form_add_service_errors, form_reoffer
from mlteam.people import person_name

from . import permissions, selectors, services
from .forms import (
    AcknowledgeForm,
    CycleForm,
    EvaluationForm,
    ExpectationsForm,
    SelfAssessmentForm,
)
from .models import RATING_FIELDS, Review, ReviewCycle, ReviewPart, review_parts_written

CYCLES_PER_PAGE = 20
READS_ON_REVIEW_PAGE = 10
READS_PER_PAGE = 50


def _cycle_or_404(pk: int) -> ReviewCycle:
    cycle = selectors.cycle_get(pk=pk)
    if cycle is None:
        raise Http404
    return cycle


@require_GET
def cycle_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.cycle_list(), CYCLES_PER_PAGE).get_page(
        QueryForm(request.GET).values()["page"]
    )
    summaries = selectors.cycle_summaries(user=request.user)
    for cycle in page:
        cycle.about_me = summaries["about_me"].get(cycle.pk, 0)
        cycle.written = summaries["written"].get(cycle.pk)
    return render(
        request,
        "reviews/cycle_list.html",
        {
            "page": page,
            "today": timezone.localdate(),
            "can_create": permissions.can_create_cycle(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def cycle_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_cycle(request.user):
        raise PermissionDenied
    form = CycleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = {name: value for name, value in form.cleaned_data.items() if name != "version"}
            cycle = services.cycle_create(actor=request.user, **data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Review cycle created."))
            return redirect("reviews:cycle_detail", pk=cycle.pk)
    return render(
        request, "reviews/cycle_form.html", {"form": form}, status=400 if form.is_bound else 200
    )


@require_http_methods(["GET", "POST"])
def cycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _cycle_or_404(pk)
    if not permissions.can_edit_cycle(request.user, cycle):
        raise PermissionDenied
    form = _cycle_form(cycle, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.changes():  # unchanged: nothing written, as in the admin
                services.cycle_update(cycle=cycle, **form.cleaned_data)
        except ValidationError as error:
            cycle = _cycle_or_404(pk)  # as saved now
            form = form_reoffer(form, _cycle_form(cycle), error)
        else:
            messages.success(request, _("Review cycle saved."))
            return redirect("reviews:cycle_detail", pk=cycle.pk)
    return render(
        request,
        "reviews/cycle_form.html",
        {"form": form, "cycle": cycle},
        status=400 if form.is_bound else 200,
    )


def _cycle_form(cycle: ReviewCycle, data=None) -> CycleForm:
    form = CycleForm(
        data,
        initial={
            "name": cycle.name,
            "start_date": cycle.start_date,
            "end_date": cycle.end_date,
            "expectations_due_days": cycle.expectations_due_days,
            "version": cycle.version,
        },
    )
    form.fields["version"].required = True
    return form


@require_GET
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _cycle_or_404(pk)
    writes = permissions.can_write_reviews(request.user)
    return render(
        request,
        "reviews/cycle_detail.html",
        {
            "cycle": cycle,
            "today": timezone.localdate(),
            "mine": selectors.reviews_of(cycle=cycle, person=request.user),
            "rows": selectors.cycle_rows_for_manager(cycle=cycle, user=request.user)
            if writes
            else [],
            "writes": writes,
            "all_reviews": selectors.all_reviews(cycle=cycle, viewer=request.user),
            "can_edit": permissions.can_edit_cycle(request.user, cycle),
        },
    )


# --- reviews ------------------------------------------------------------------------------


def _review_or_404(request: HttpRequest, pk: int) -> Review:
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    if review is None:
        raise Http404
    return review


def _own_review_or_403(request: HttpRequest, pk: int) -> Review:
    """For the writing manager; the person and admins see it but may not change it."""
    review = _review_or_404(request, pk)
    if not permissions.can_edit_review(request.user, review):
        raise PermissionDenied
    return review


def _person_review_or_403(request: HttpRequest, pk: int) -> Review:
    review = _review_or_404(request, pk)
    if not permissions.is_reviewed_person(request.user, review):
        raise PermissionDenied
    return review


@require_http_methods(["GET", "POST"])
def expectations_create(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    cycle = _cycle_or_404(pk)
    if not permissions.can_write_reviews(request.user):
        raise PermissionDenied
    person = selectors.managed_people(user=request.user).filter(pk=person_pk).first()
    if person is None:
        raise Http404
    existing = selectors.review_written_by(cycle=cycle, person=person, manager=request.user)
    if existing is not None:
        return redirect("reviews:review_detail", pk=existing.pk)
    deliverables = selectors.linkable_deliverables(manager=request.user, person=person)
    form = ExpectationsForm(request.POST or None, deliverables=deliverables)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.expectations_write(
                cycle=cycle,
                person=person,
                actor=request.user,
                text=form.cleaned_data["expectations"],
                deliverables=list(form.cleaned_data["deliverables"]),
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Expectations saved. %(person)s can now read and acknowledge them.")
                % {"person": person_name(person)},
            )
            return redirect("reviews:review_detail", pk=review.pk)
    return render(
        request,
        "reviews/expectations_form.html",
        {"form": form, "cycle": cycle, "person": person},
        status=400 if form.is_bound else 200,
    )


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(request, pk)
    return _review_page(request, review)


def _review_page(request, review, *, self_form=None, status=200):
    is_person = permissions.is_reviewed_person(request.user, review)
    shows_evaluation = review.evaluation_shared_at is not None or not is_person
    # Anyone but the person is shown all of it (the service ignores the person).
    _record_read(request, review, review_parts_written(review))
    context = {
        "review": review,
        "cycle": review.cycle,
        "is_person": is_person,
        "can_edit": permissions.can_edit_review(request.user, review),
        "shows_evaluation": shows_evaluation,
        "deliverables": selectors.review_deliverables(
            review=review, viewer=request.user, today=timezone.localdate()
        ),
        "history": selectors.review_history(review=review, viewer=request.user),
        "ack_form": AcknowledgeForm(initial={"version": review.version}),
        "today": timezone.localdate(),
    }
    if is_person and not review.evaluation_acknowledged_at:
        context["self_form"] = self_form or _self_assessment_form(review)
    if permissions.can_view_review_reads(request.user, review):
        context["reads"], context["more_reads"] = selectors.review_reads_latest(
            review=review, limit=READS_ON_REVIEW_PAGE
        )
    return render(request, "reviews/review_detail.html", context, status=status)


def _record_read(request: HttpRequest, review: Review, parts: list[str]) -> None:
    """Every page that shows what a review says records it, once per request."""
    services.review_access_record(review=review, reader=request.user, parts=parts, request=request)


@require_GET
def review_reads(request: HttpRequest, pk: int) -> HttpResponse:
    """Every read of a review, for its person and admins (404 for anyone else,
    the writing manager included: the log is not theirs to see)."""
    review = _review_or_404(request, pk)
    if not permissions.can_view_review_reads(request.user, review):
        raise Http404
    page = Paginator(selectors.review_reads(review=review), READS_PER_PAGE).get_page(
        QueryForm(request.GET).values()["page"]
    )
    return render(
        request,
        "reviews/review_reads.html",
        {
            "review": review,
            "cycle": review.cycle,
            "page_obj": page,
            "is_person": permissions.is_reviewed_person(request.user, review),
        },
    )


def _self_assessment_form(review: Review, data=None) -> SelfAssessmentForm:
    return SelfAssessmentForm(
        data, initial={"version": review.version, "self_assessment": review.self_assessment}
    )


@require_http_methods(["GET", "POST"])
def expectations_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review_or_403(request, pk)
    form = _expectations_form(request, review, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.expectations_update(
                review=review,
                actor=request.user,
                version=form.cleaned_data["version"],
                text=form.cleaned_data["expectations"],
                deliverables=list(form.cleaned_data["deliverables"]),
            )
        except ValidationError as error:
            review = _own_review_or_403(request, pk)  # as saved now
            form = form_reoffer(form, _expectations_form(request, review), error)
        else:
            if changed:
                messages.success(
                    request, _("Expectations saved; they wait for a new acknowledgement.")
                )
            return redirect("reviews:review_detail", pk=review.pk)
    _record_read(request, review, [ReviewPart.EXPECTATIONS])
    return render(
        request,
        "reviews/expectations_form.html",
        {"form": form, "cycle": review.cycle, "person": review.person, "review": review},
        status=400 if form.is_bound else 200,
    )


def _expectations_form(request, review: Review, data=None) -> ExpectationsForm:
    # Links to work the manager may no longer see stay, unseen (the service keeps them).
    linked = selectors.review_linked_ids(review=review, viewer=request.user)
    deliverables = selectors.linkable_deliverables(
        manager=request.user, person=review.person, also=linked
    )
    initial = {
        "version": review.version,
        "expectations": review.expectations,
        "deliverables": linked,
    }
    return ExpectationsForm(data, initial=initial, deliverables=deliverables, require_version=True)


@require_http_methods(["GET", "POST"])
def evaluation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review_or_403(request, pk)
    form = _evaluation_form(review, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        share = "share" in request.POST or review.evaluation_shared_at is not None
        if share:
            for name in RATING_FIELDS:
                if not data[name]:
                    form.add_error(name, _("Rate this before sharing."))
            if not data["evaluation_comment"].strip():
                form.add_error("evaluation_comment", _("Write a comment before sharing."))
        if form.errors:
            _record_read(request, review, _evaluation_parts(review))
            return render(
                request,
                "reviews/evaluation_form.html",
                {"form": form, "review": review, "cycle": review.cycle},
                status=400,
            )
        try:
            services.evaluation_save(
                review=review,
                actor=request.user,
                version=data["version"],
                ratings={name: data[name] for name in RATING_FIELDS},
                comment=data["evaluation_comment"],
                project_outcome=data["project_outcome"],
                share=share,
            )
        except ValidationError as error:
            review = _own_review_or_403(request, pk)  # as saved now
            form = form_reoffer(form, _evaluation_form(review), error)
        else:
            if review.evaluation_shared_at:
                messages.success(
                    request,
                    _("Evaluation shared with %(person)s.")
                    % {"person": person_name(review.person)},
                )
            else:
                messages.success(
                    request,
                    _("Evaluation saved as a draft: %(person)s sees it once you share it.")
                    % {"person": person_name(review.person)},
                )
            return redirect("reviews:review_detail", pk=review.pk)
    _record_read(request, review, _evaluation_parts(review))
    return render(
        request,
        "reviews/evaluation_form.html",
        {"form": form, "review": review, "cycle": review.cycle},
        status=400 if form.is_bound else 200,
    )


def _evaluation_parts(review: Review) -> list[str]:
    """The evaluation form shows the saved evaluation (as its initial values), once
    there is one."""
    return [ReviewPart.EVALUATION] if review.evaluation_written_at else []


def _evaluation_form(review: Review, data=None) -> EvaluationForm:
    initial = {
        "version": review.evaluation_version,
        "evaluation_comment": review.evaluation_comment,
        "project_outcome": review.project_outcome,
        **{name: getattr(review, name) for name in RATING_FIELDS},
    }
    return EvaluationForm(data, initial=initial)


def _acknowledge(request, pk, service, done_message):
    review = _person_review_or_403(request, pk)
    form = AcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            service(review=review, actor=request.user, version=form.cleaned_data["version"])
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, done_message)
    else:
        messages.error(request, _("That did not work; please try again."))
    return redirect("reviews:review_detail", pk=review.pk)


@require_POST
def expectations_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _acknowledge(
        request, pk, services.expectations_acknowledge, _("You acknowledged the expectations.")
    )


@require_POST
def evaluation_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    return _acknowledge(
        request, pk, services.evaluation_acknowledge, _("You acknowledged the evaluation.")
    )


@require_POST
def self_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    review = _person_review_or_403(request, pk)
    form = _self_assessment_form(review, request.POST)
    if form.is_valid():
        try:
            services.self_assessment_save(
                review=review,
                actor=request.user,
                version=form.cleaned_data["version"],
                text=form.cleaned_data["self_assessment"],
            )
        except ValidationError as error:
            review = _person_review_or_403(request, pk)  # as saved now
            form = form_reoffer(form, _self_assessment_form(review), error)
        else:
            messages.success(request, _("Self-assessment saved."))
            return redirect("reviews:review_detail", pk=review.pk)
    return _review_page(request, review, self_form=form, status=400)
