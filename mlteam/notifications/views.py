"""A project's webhooks, for its managers: list, add (the secret shown once), edit,
turn off and on, rotate the secret, delete, and each endpoint's delivery log with
replay. A project the reader may not see is 404; one they see but do not manage, 403.

And the signed-in person's inbox: the page, marking entries read (htmx swaps the
row or the list; a plain form is redirected back), and the navbar bell's count;
and their own notification settings (their chat address, how the digest comes,
what also comes by email or chat). Every one of these is the reader's own: they
take no id of a person, so nobody reaches another's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mlteam.forms import form_add_service_errors
from roles.models import Project
from roles.selectors import project_get_for_user

from . import personal, selectors, services
from .forms import ChatAddressForm, ConfirmForm, EndpointForm, NotificationPreferenceForm
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


def confirm_then(request, *, versioned, template: str, context: dict, action):
    """A versioned change that asks first (webhooks here, chat channels too).
    GET: the confirmation page `template`. POST: `action(version)` with the version
    the page was drawn at; returns None when it ran, else the page again with the
    service's refusal (409: someone changed it meanwhile)."""
    form = ConfirmForm(request.POST or None, initial={"version": versioned.version})
    if request.method == "POST" and form.is_valid():
        try:
            action(form.cleaned_data["version"])
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return None
    return render(request, template, {**context, "form": form}, status=409 if form.errors else 200)


def _confirm(request, project, endpoint, *, title, question, button, action, danger=False):
    return confirm_then(
        request,
        versioned=endpoint,
        template="notifications/endpoint_confirm.html",
        context={
            "project": project,
            "endpoint": endpoint,
            "title": title,
            "question": question,
            "button": button,
            "danger": danger,
        },
        action=action,
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


# --- the in-app inbox -----------------------------------------------------------------------

INBOX_PAGE_SIZE = 25
# Sent with every change to the inbox: the navbar's bell asks for its count again.
INBOX_CHANGED = "inbox-changed"


def _inbox_page(request: HttpRequest):
    """The page asked for: in the address, or sent with a form (marking read)."""
    number = request.POST.get("page") or request.GET.get("page")
    return Paginator(selectors.inbox_entries(request.user), INBOX_PAGE_SIZE).get_page(number)


def _inbox_context(request: HttpRequest) -> dict:
    return {
        "page_obj": _inbox_page(request),
        # Sent back with "Mark all read": what arrives after this drawing stays unread.
        "newest_id": selectors.inbox_newest_id(request.user),
    }


def _inbox_list(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/_inbox_list.html", _inbox_context(request))


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in person's inbox, newest first, 25 a page."""
    return render(request, "notifications/inbox.html", _inbox_context(request))


@require_POST
def inbox_read(request: HttpRequest, entry_pk: int) -> HttpResponse:
    """Mark one of one's own entries read: htmx gets the row back, a form the inbox."""
    entry = selectors.inbox_entries(request.user).filter(pk=entry_pk).first()
    if entry is None:
        raise Http404
    services.inbox_mark_read(user=request.user, entry_id=entry.pk)
    if request.htmx:
        entry.read_at = entry.read_at or timezone.now()
        response = render(request, "notifications/_inbox_entry.html", {"entry": entry})
        response["HX-Trigger"] = INBOX_CHANGED
        return response
    return redirect(_inbox_url(request))


@require_GET
def inbox_open(request: HttpRequest, entry_pk: int) -> HttpResponse:
    """Follow an entry's link: it is marked read, then the page it is about opens
    (its deliverable, else its project)."""
    entry = selectors.inbox_entries(request.user).filter(pk=entry_pk).first()
    if entry is None:
        raise Http404
    services.inbox_mark_read(user=request.user, entry_id=entry.pk)
    if entry.deliverable_id:
        return redirect("deliverables:detail", pk=entry.deliverable_id)
    if entry.review_id:
        return redirect("reviews:review_detail", pk=entry.review_id)
    if entry.project_id:
        return redirect("roles:project_detail", pk=entry.project_id)
    return redirect("deliverables:my_work")


@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every entry read up to the newest the page drew (`newest`): entries that
    arrived since stay unread. htmx gets the list back, a form the inbox."""
    newest = request.POST.get("newest", "")
    if not newest.isascii() or not newest.isdigit():
        # A page from before "newest" was sent, or a hand-made request: mark nothing.
        if request.htmx:
            return _inbox_list(request)
        messages.error(request, _("The inbox changed; nothing was marked. Try again."))
        return redirect(_inbox_url(request))
    marked = services.inbox_mark_all_read(user=request.user, newest_id=int(newest[:18]))
    if request.htmx:
        response = _inbox_list(request)
        response["HX-Trigger"] = INBOX_CHANGED
        return response
    if selectors.inbox_newest_id(request.user) > int(newest[:18]):
        messages.success(
            request,
            ngettext(
                "Marked %(count)s entry read; what arrived meanwhile is still new.",
                "Marked %(count)s entries read; what arrived meanwhile is still new.",
                marked,
            )
            % {"count": marked},
        )
    else:
        messages.success(request, _("Everything in your inbox is marked read."))
    return redirect(_inbox_url(request))


def _inbox_url(request: HttpRequest) -> str:
    """The inbox, on the page the form was sent from."""
    page = request.POST.get("page", "")
    url = reverse("notifications:inbox")
    return f"{url}?page={int(page)}" if page.isdigit() else url


@login_not_required
@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The bell's badge (asked for by the navbar after the page loads, then every
    INBOX_POLL_SECONDS): nothing is swapped for someone signed out (204)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(
        request,
        "notifications/_inbox_count.html",
        {"unread": selectors.unread_count(request.user)},
    )


# --- the person's own notification settings -------------------------------------------------


def _settings_page(request, *, address_form=None, form=None, status=200) -> HttpResponse:
    preference = selectors.notification_preference_of(request.user)
    if address_form is None:
        address_form = ChatAddressForm(initial={"version": preference.version})
    if form is None:
        form = NotificationPreferenceForm(
            initial=NotificationPreferenceForm.initial_for(preference),
            has_chat=preference.has_chat,
        )
    return render(
        request,
        "notifications/settings.html",
        {
            "preference": preference,
            "address_form": address_form,
            "form": form,
            "replacing": request.GET.get("replace") == "1" or address_form.is_bound,
            "deliveries": selectors.chat_deliveries(request.user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The person's own settings: the chat address, how the digest comes, and which
    inbox kinds also come by email or chat. Only ever the reader's own."""
    if request.method == "GET":
        return _settings_page(request)
    preference = selectors.notification_preference_of(request.user)
    form = NotificationPreferenceForm(request.POST, has_chat=preference.has_chat)
    if not form.is_valid():
        return _settings_page(request, form=form, status=422)
    try:
        personal.notification_preference_update(
            person=request.user,
            version=form.cleaned_data["version"],
            digest_by=form.cleaned_data["digest_by"],
            event_channels=form.event_channels(),
        )
    except ValidationError as error:
        stale = getattr(error, "code", None) == "stale"
        if stale:
            # Drawn again from what is saved now; the refusal said above it.
            messages.error(request, " ".join(error.messages))
            return _settings_page(request, status=409)
        _form_errors(form, error)
        return _settings_page(request, form=form, status=422)
    messages.success(request, _("Notification settings saved."))
    return redirect("notifications:settings")


@require_POST
def chat_address_save(request: HttpRequest) -> HttpResponse:
    address_form = ChatAddressForm(request.POST)
    if address_form.is_valid():
        try:
            personal.chat_address_set(
                person=request.user,
                url=address_form.cleaned_data["url"],
                version=address_form.cleaned_data["version"],
            )
        except ValidationError as error:
            if getattr(error, "code", None) == "stale":
                messages.error(request, " ".join(error.messages))
                return _settings_page(request, status=409)
            _form_errors(address_form, error)
        else:
            messages.success(
                request,
                _("Chat address saved. Send a test message to check that it reaches you."),
            )
            return redirect("notifications:settings")
    return _settings_page(request, address_form=address_form, status=422)


@require_POST
def chat_address_test(request: HttpRequest) -> HttpResponse:
    result = personal.chat_test_send(person=request.user)
    if result.delivered:
        messages.success(request, _("Test message sent. Check your chat."))
    elif not result.tried:
        messages.error(request, result.error)
    else:
        messages.error(
            request,
            _("Your chat did not take the test message: %(error)s") % {"error": result.error},
        )
    return redirect("notifications:settings")


@require_http_methods(["GET", "POST"])
def chat_address_remove(request: HttpRequest) -> HttpResponse:
    """Asks first (GET); forgets the address on POST (the version the page showed)."""
    preference = selectors.notification_preference_of(request.user)
    if not preference.has_chat:
        messages.info(request, _("You have no chat address."))
        return redirect("notifications:settings")
    form = ConfirmForm(request.POST or None, initial={"version": preference.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            personal.chat_address_remove(person=request.user, version=form.cleaned_data["version"])
        except ValidationError as error:
            form_add_service_errors(form, error)
            status = 409
        else:
            messages.success(
                request, _("Chat address removed. Your daily digest comes by email again.")
            )
            return redirect("notifications:settings")
    return render(
        request,
        "notifications/chat_remove.html",
        {"preference": preference, "form": form},
        status=status,
    )
