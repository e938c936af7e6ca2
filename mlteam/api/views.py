"""Base classes for the apps' API views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework import viewsets


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
