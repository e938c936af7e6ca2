"""Calendar feeds: the settings page (issue, replace, turn off) and the feed itself.

The feed address holds its own secret (calendar programs send no cookies), so the
feed view needs no sign-in; it answers 404 alike for an unknown, revoked or
replaced address and for a deactivated person."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from deliverables.reminders import preference_for, preference_zone

from . import ics, selectors, services
from .forms import FeedIssueForm
from .models import CalendarFeed


@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    """The reader's feeds, and a form to issue an address. A new address is shown
    on the response to that POST only (no-store), as API tokens are."""
    projects = selectors.feed_projects(user=request.user)
    initial = {}
    if "project" in request.GET:
        initial["project"] = request.GET.get("project")
    form = FeedIssueForm(
        request.POST if request.method == "POST" else None, projects=projects, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                feed, secret = services.feed_issue(
                    person=request.user, project=form.cleaned_data["project"]
                )
            except PermissionDenied:
                form.add_error("project", _("You cannot see this project."))
            else:
                response = render(
                    request,
                    "calendars/feed_issued.html",
                    {
                        "feed": feed,
                        "name": ics.feed_name(feed),
                        "address": settings.SITE_URL + reverse("calendars:feed", args=[secret]),
                    },
                    status=201,
                )
                add_never_cache_headers(response)
                return response
    return render(
        request,
        "calendars/feed_settings.html",
        {"feeds": selectors.feeds_of(user=request.user), "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (GET); turns the feed off on POST. Only the reader's own feeds."""
    feed = CalendarFeed.objects.filter(person=request.user, pk=pk).select_related("project").first()
    if feed is None:
        raise Http404
    if request.method == "POST":
        services.feed_revoke(feed=feed)
        messages.success(
            request,
            _("The feed “%(name)s” is off: its address no longer works.")
            % {"name": ics.feed_name(feed)},
        )
        return redirect("calendars:settings")
    return render(
        request, "calendars/feed_revoke.html", {"feed": feed, "name": ics.feed_name(feed)}
    )


@login_not_required
@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    found = selectors.feed_for_secret(secret)
    if found is None:
        raise Http404
    preference = preference_for(found.person)
    today = timezone.now().astimezone(preference_zone(preference)).date()
    with translation.override(preference.email_language):
        entries = selectors.feed_entries(feed=found, today=today)
        body = ics.calendar_document(name=ics.feed_name(found), entries=entries, now=ics.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="mlteam.ics"'
    # Private to whoever holds the address; never kept by a shared cache.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return response
