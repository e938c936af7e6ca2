from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from deliverables.practices.selectors import reviews_waiting_for
from deliverables.selectors import member_home

from . import health
from .cache import cached


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = cached(
        "home",
        request.user,
        (today,),
        lambda: {
            "home": member_home(user=request.user, today=today),
            "reviews_waiting": reviews_waiting_for(user=request.user),
        },
    )
    return render(request, "home.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer and reminder emails get through,
    503 naming what failed."""
    problems = {"database": health.check_database(), "broker": health.check_broker()}
    problems["reminders"] = (
        health.check_reminders() if problems["database"] is None else "database unreachable"
    )
    body = {
        name: ("ok" if problem is None else f"error: {problem}")
        for name, problem in problems.items()
    }
    healthy = all(problem is None for problem in problems.values())
    body["status"] = "ok" if healthy else "error"
    return JsonResponse(body, status=200 if healthy else 503)
