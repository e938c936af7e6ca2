"""/api/v1/: every app's resources, the OpenAPI schema, and /api/docs/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from deliverables import api as deliverables_api
from roles import api as roles_api

from . import schema  # noqa: F401 (registers the authentication schemes)
from .views import IndexView, NotFoundView, SchemaView

ROUTES = [*roles_api.ROUTES, *deliverables_api.ROUTES]
# Paths end with "/" (docs/api.md); without it they are a 404 problem.
router = SimpleRouter()
for prefix, viewset, basename in ROUTES:
    router.register(prefix, viewset, basename=basename)

# The index's collections: every route whose address has no parameter.
COLLECTIONS = [
    (prefix, f"api:{basename}-list") for prefix, _viewset, basename in ROUTES if "(?P" not in prefix
]

app_name = "api"
urlpatterns = [
    path("", IndexView.as_view(collections=COLLECTIONS), name="index"),
    *router.urls,
    path(
        "schema/",
        SchemaView.as_view(),
        name="schema",
    ),
    # Last: whatever else is asked under /api/v1/ is a 404 problem.
    re_path(r"", NotFoundView.as_view(), name="not_found"),
]
# Interactive documentation (Swagger UI from drf-spectacular-sidecar, no CDN; its
# start-up script is served as a file, so the site's CSP holds), at /api/docs/.
# (No Redoc: it styles the page with inline <style> elements, which the CSP refuses.)
docs_urlpatterns = [
    path(
        "docs/",
        login_not_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema",
                permission_classes=[],
                template_name="api/swagger_ui.html",  # no inline style (CSP)
            )
        ),
        name="api_docs",
    ),
]
