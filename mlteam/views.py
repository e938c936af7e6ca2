from __future__ import annotations

from functools import partial

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deliverables.reviews.selectors import reviews_waiting_for
from deliverables.selectors import member_home
from roles.selectors import dashboard_scope

from . import health
from .cache import KeptScope, cached


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    scope = KeptScope(partial(dashboard_scope, user=request.user))
    context = cached(
        "home",
        request.user,
        (today,),
        lambda: {
            "home": member_home(user=request.user, today=today, visible=scope.ids()),
            "reviews_waiting": reviews_waiting_for(user=request.user),
        },
        scope,
    )
    return render(request, "home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while this process answers: what a liveness probe asks. It checks nothing
    else, so that an outage of the database or the broker takes processes out of
    service (`readyz`) without restarting them all in a loop."""
    return _health({})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when this process can serve: the database, the cache and the broker
    answer and every migration is applied; 503 naming what failed. What readiness
    probes, load balancers and the containers' health checks ask. A mail outage
    must not take the site out of service, so reminders have their own check
    (`healthz_reminders`)."""
    problems = {"database": health.check_database()}
    problems["migrations"] = (
        health.check_migrations() if problems["database"] is None else "no database"
    )
    problems["cache"] = health.check_cache()
    problems["broker"] = health.check_broker()
    return _health(problems)


@login_not_required
@never_cache
@require_GET
def healthz_reminders(request: HttpRequest) -> JsonResponse:
    """200 while reminder emails get through, 503 while digests are failing or one
    was given up in the last day: what monitoring alerts on."""
    problem = health.check_database()
    return _health({"reminders": health.check_reminders() if problem is None else problem})


def _health(problems: dict[str, str | None]) -> JsonResponse:
    body = {
        name: ("ok" if problem is None else f"error: {problem}")
        for name, problem in problems.items()
    }
    healthy = all(problem is None for problem in problems.values())
    body["status"] = "ok" if healthy else "error"
    return JsonResponse(body, status=200 if healthy else 503)
