"""Base classes for the apps' API views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework import exceptions, viewsets
from rest_framework.views import APIView


class ApiViewMixin:
    """The site asks browsers to sign in (LoginRequiredMiddleware); the API answers
    for itself (401 problem details), whoever calls and however."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass


class NotFoundView(ApiViewMixin, APIView):
    """Any path under /api/v1/ that names nothing (an unknown resource, or an id
    the router's pattern refuses, such as `1.5`): a 404 problem, like every other
    refusal, rather than the site's HTML page."""

    permission_classes = []
    schema = None  # not an operation of the API

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound()
