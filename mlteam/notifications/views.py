"""A project's webhooks, for its managers: list, add (the secret shown once), edit,
turn off and on, rotate the secret, delete, and each endpoint's delivery log with
replay. A project the reader may not see is 404; one they see but do not manage, 403."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mlteam.forms import form_add_service_errors
from roles.models import Project
from roles.selectors import project_get_for_user

from . import selectors, services
from .forms import ConfirmForm, EndpointForm
from .models import WebhookEndpoint
from .permissions import can_manage_webhooks

PAGE_SIZE = 25


def _project(request: HttpRequest, pk: int) -> Project:
    project = project_get_for_user(user=request.user, pk=pk, with_team=False)
    if project is None:
        raise Http404
    if not can_manage_webhooks(request.user, project):
        raise PermissionDenied
    return project


def _endpoint(request: HttpRequest, pk: int, endpoint_pk: int) -> tuple[Project, WebhookEndpoint]:
    project = _project(request, pk)
    endpoint = selectors.endpoint_get(project=project, pk=endpoint_pk)
    if endpoint is None:
        raise Http404
    endpoint.project = project
    return project, endpoint


def _show_secret(request, project, endpoint, heading) -> HttpResponse:
    """The secret, this once: the page is not cached, and never shown again."""
    response = render(
        request,
        "notifications/endpoint_secret.html",
        {"project": project, "endpoint": endpoint, "heading": heading},
    )
    add_never_cache_headers(response)
    return response


def endpoints(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    return render(
        request,
        "notifications/endpoint_list.html",
        {"project": project, "endpoints": list(selectors.endpoint_list(project=project))},
    )


@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.endpoint_create(
                actor=request.user,
                project=project,
                url=data["url"],
                events=data["events"],
                description=data["description"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            return _show_secret(request, project, endpoint, _("Webhook added"))
    return render(
        request,
        "notifications/endpoint_form.html",
        {"project": project, "form": form, "endpoint": None},
        status=422 if form.errors else 200,
    )


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form_add_service_errors(form, error)


@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int, endpoint_pk: int) -> HttpResponse:
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    form = EndpointForm(
        request.POST or None,
        initial={
            "version": endpoint.version,
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.endpoint_update(
                endpoint=endpoint,
                actor=request.user,
                version=data["version"],
                url=data["url"],
                events=data["events"],
                description=data["description"],
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("notifications:endpoints", pk=project.pk)
    return render(
        request,
        "notifications/endpoint_form.html",
        {"project": project, "form": form, "endpoint": endpoint},
        status=422 if form.errors else 200,
    )


def _confirm(request, project, endpoint, *, title, question, button, action, danger=False):
    """GET: a confirmation page. POST: `action(version)`; returns None when it ran."""
    form = ConfirmForm(request.POST or None, initial={"version": endpoint.version})
    if request.method == "POST" and form.is_valid():
        try:
            action(form.cleaned_data["version"])
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return None
    return render(
        request,
        "notifications/endpoint_confirm.html",
        {
            "project": project,
            "endpoint": endpoint,
            "form": form,
            "title": title,
            "question": question,
            "button": button,
            "danger": danger,
        },
        status=409 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def endpoint_toggle(request: HttpRequest, pk: int, endpoint_pk: int) -> HttpResponse:
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    turn_on = not endpoint.active
    response = _confirm(
        request,
        project,
        endpoint,
        title=_("Turn the webhook on") if turn_on else _("Turn the webhook off"),
        question=(
            _("Send events to %(url)s again?")
            if turn_on
            else _("Stop sending events to %(url)s? Events meanwhile are not sent later.")
        )
        % {"url": endpoint.url},
        button=_("Turn on") if turn_on else _("Turn off"),
        action=lambda version: services.endpoint_set_active(
            endpoint=endpoint, actor=request.user, version=version, active=turn_on
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("Webhook turned on.") if turn_on else _("Webhook turned off."))
    return redirect("notifications:endpoints", pk=project.pk)


@require_http_methods(["GET", "POST"])
def endpoint_rotate(request: HttpRequest, pk: int, endpoint_pk: int) -> HttpResponse:
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    response = _confirm(
        request,
        project,
        endpoint,
        title=_("Rotate the signing secret"),
        question=_(
            "Make a new signing secret for %(url)s? The old one stops working at once: "
            "update the receiver with the new one."
        )
        % {"url": endpoint.url},
        button=_("Make a new secret"),
        action=lambda version: services.endpoint_rotate_secret(
            endpoint=endpoint, actor=request.user, version=version
        ),
    )
    if response is not None:
        return response
    return _show_secret(request, project, endpoint, _("New signing secret"))


@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, pk: int, endpoint_pk: int) -> HttpResponse:
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    response = _confirm(
        request,
        project,
        endpoint,
        title=_("Delete the webhook"),
        question=_("Delete the webhook to %(url)s and its delivery log?") % {"url": endpoint.url},
        button=_("Delete"),
        danger=True,
        action=lambda version: services.endpoint_delete(
            endpoint=endpoint, actor=request.user, version=version
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("Webhook deleted."))
    return redirect("notifications:endpoints", pk=project.pk)


def deliveries(request: HttpRequest, pk: int, endpoint_pk: int) -> HttpResponse:
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    page = Paginator(selectors.delivery_log(endpoint=endpoint), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/delivery_list.html",
        {"project": project, "endpoint": endpoint, "page_obj": page},
    )


@require_POST
def delivery_replay(request: HttpRequest, pk: int, endpoint_pk: int, delivery_pk: int):
    project, endpoint = _endpoint(request, pk, endpoint_pk)
    delivery = selectors.delivery_log(endpoint=endpoint).filter(pk=delivery_pk).first()
    if delivery is None:
        raise Http404
    delivery.endpoint = endpoint
    try:
        services.delivery_replay(delivery=delivery, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The delivery is queued to be sent again."))
    return redirect(reverse("notifications:deliveries", args=[project.pk, endpoint.pk]))
