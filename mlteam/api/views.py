"""Base classes for the apps' API views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from .problems import PROBLEM_CONTENT_TYPE


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


class SchemaView(ApiViewMixin, SpectacularAPIView):
    """The OpenAPI schema (YAML unless JSON is asked for). Its refusals (a 429, a
    406) are problem details in JSON like every other, not YAML under a JSON
    content type."""

    permission_classes = []

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = PROBLEM_CONTENT_TYPE
        return response
