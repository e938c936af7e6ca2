"""Base classes for the apps' API views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .problems import PROBLEM_CONTENT_TYPE


class IndexSerializer(serializers.Serializer):
    schema = serializers.URLField(read_only=True, help_text="The OpenAPI schema (this document).")
    docs = serializers.URLField(read_only=True, help_text="The interactive documentation.")
    collections = serializers.DictField(
        child=serializers.URLField(),
        read_only=True,
        help_text="Each top-level collection by its name, with its address.",
    )


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


class IndexView(ApiViewMixin, APIView):
    """`GET /api/v1/`: where to start. Readable without signing in, as the schema
    is: it names addresses only, never data."""

    permission_classes = [AllowAny]  # (the schema then says: no credentials needed)
    # (name, URL name) of each top-level collection: set by mlteam/api/urls.py
    # from the router, so a new resource is listed as soon as it is registered.
    collections: list[tuple[str, str]] = []

    @extend_schema(
        operation_id="api_index",
        summary="The API's index: the schema, the docs and the top-level collections",
        responses=IndexSerializer,
    )
    def get(self, request):
        def address(url_name: str) -> str:
            return request.build_absolute_uri(reverse(url_name))

        return Response(
            {
                "schema": address("api:schema"),
                "docs": address("api_docs"),
                "collections": {name: address(url_name) for name, url_name in self.collections},
            }
        )


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
