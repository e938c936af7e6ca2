from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from roles import views as roles_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("roles.urls")),
    path("", include("deliverables.urls")),
    path("", include("deliverables.practices.urls")),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        roles_views.invitation_accept,
        name="invitation_accept",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # The sign-in page offers the language switch too, so it must work signed out.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
