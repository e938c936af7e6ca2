"""A project's chat channels, for its managers: list, add, edit, send a test
message, turn off and on, delete (after confirming), and each channel's message
log. A project the reader may not see is 404; one they see but do not manage, 403."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deliverables.reminders import preference_for
from mlteam.forms import form_add_service_errors
from mlteam.notifications.models import DeliveryStatus
from mlteam.notifications.views import confirm_then
from roles.models import Project
from roles.selectors import project_get_for_user

from . import selectors, services
from .forms import ChannelForm
from .models import SKIP_REASONS, ChatChannel
from .permissions import can_manage_channels

PAGE_SIZE = 25


def _project(request: HttpRequest, pk: int) -> Project:
    project = project_get_for_user(user=request.user, pk=pk, with_team=False)
    if project is None:
        raise Http404
    if not can_manage_channels(request.user, project):
        raise PermissionDenied
    return project


def _channel(request: HttpRequest, pk: int, channel_pk: int) -> tuple[Project, ChatChannel]:
    project = _project(request, pk)
    channel = selectors.channel_get(project=project, pk=channel_pk)
    if channel is None:
        raise Http404
    channel.project = project
    return project, channel


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form_add_service_errors(form, error)


@require_GET
def channels(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    return render(
        request,
        "chat/channel_list.html",
        {"project": project, "channels": list(selectors.channel_list(project=project))},
    )


@require_http_methods(["GET", "POST"])
def channel_create(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    if project.is_archived:
        messages.error(request, services.ARCHIVED_MESSAGE)
        return redirect("chat:channels", pk=project.pk)
    preference = preference_for(request.user)
    form = ChannelForm(
        request.POST or None,
        # The manager's own reminder times and language are the likeliest team's.
        initial={
            "time_zone": preference.time_zone,
            "hour": preference.hour,
            "working_days": preference.working_days,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "events": [],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.channel_create(
                actor=request.user, project=project, **form.service_fields()
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                _("Channel %(name)s added. Send it a test message to check it works.")
                % {"name": channel.name},
            )
            return redirect("chat:channels", pk=project.pk)
    return render(
        request,
        "chat/channel_form.html",
        {"project": project, "form": form, "channel": None},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def channel_edit(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project, channel = _channel(request, pk, channel_pk)
    form = ChannelForm(
        request.POST or None,
        channel=channel,
        initial={
            "version": channel.version,
            "name": channel.name,
            "platform": channel.platform,
            "events": channel.events,
            "daily_summary": channel.daily_summary,
            "hour": channel.hour,
            "time_zone": channel.time_zone,
            "working_days": channel.working_days,
            "paused_until": channel.paused_until,
            "due_soon_days": channel.due_soon_days,
            "language": channel.language,
        },
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            services.channel_update(
                channel=channel,
                actor=request.user,
                version=form.cleaned_data["version"],
                **fields,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Channel saved."))
            return redirect("chat:channels", pk=project.pk)
    return render(
        request,
        "chat/channel_form.html",
        {"project": project, "form": form, "channel": channel},
        status=422 if form.errors else 200,
    )


def _confirm(request, project, channel, *, title, question, button, action, danger=False):
    return confirm_then(
        request,
        versioned=channel,
        template="chat/channel_confirm.html",
        context={
            "project": project,
            "channel": channel,
            "title": title,
            "question": question,
            "button": button,
            "danger": danger,
        },
        action=action,
    )


@require_http_methods(["GET", "POST"])
def channel_toggle(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project, channel = _channel(request, pk, channel_pk)
    turn_on = not channel.active
    response = _confirm(
        request,
        project,
        channel,
        title=_("Turn the channel on") if turn_on else _("Turn the channel off"),
        question=(
            _("Send messages to %(name)s again?")
            if turn_on
            else _("Stop sending messages to %(name)s? What happens meanwhile is not sent later.")
        )
        % {"name": channel.name},
        button=_("Turn on") if turn_on else _("Turn off"),
        action=lambda version: services.channel_set_active(
            channel=channel, actor=request.user, version=version, active=turn_on
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("Channel turned on.") if turn_on else _("Channel turned off."))
    return redirect("chat:channels", pk=project.pk)


@require_http_methods(["GET", "POST"])
def channel_delete(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project, channel = _channel(request, pk, channel_pk)
    response = _confirm(
        request,
        project,
        channel,
        title=_("Delete the channel"),
        question=_(
            "Delete %(name)s and its message log? The channel itself stays in your chat "
            "tool; it just gets nothing more from MLTeam."
        )
        % {"name": channel.name},
        button=_("Delete"),
        danger=True,
        action=lambda version: services.channel_delete(
            channel=channel, actor=request.user, version=version
        ),
    )
    if response is not None:
        return response
    messages.success(request, _("Channel deleted."))
    return redirect("chat:channels", pk=project.pk)


@require_POST
def channel_test(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    """Send a test message now and say how it went."""
    project, channel = _channel(request, pk, channel_pk)
    try:
        result = services.channel_test(channel=channel, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if result.status == DeliveryStatus.SUCCEEDED:
            messages.success(request, _("Test message sent to %(name)s.") % {"name": channel.name})
        elif result.status == DeliveryStatus.SKIPPED:
            messages.warning(
                request,
                _("Nothing was sent: %(reason)s") % {"reason": SKIP_REASONS.get(result.error, "")},
            )
        else:
            messages.error(
                request,
                _("The test message did not arrive: %(error)s") % {"error": result.error},
            )
    return redirect("chat:channels", pk=project.pk)


@require_GET
def deliveries(request: HttpRequest, pk: int, channel_pk: int) -> HttpResponse:
    project, channel = _channel(request, pk, channel_pk)
    page = Paginator(selectors.delivery_log(channel=channel), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "chat/delivery_list.html",
        {"project": project, "channel": channel, "page_obj": page},
    )
