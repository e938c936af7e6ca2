from allauth.account import views as allauth_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from deliverables import views as deliverables_views
from deliverables.urls import roles_pages
from roles import urls as roles_urls
from roles import views as roles_views

from . import observability, signin, views
from .accounts import views as accounts_views
from .api import urls as api_urls

# The admin signs in through the product's sign-in, second factor included.
admin.site.login = signin.admin_sign_in

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("healthz/reminders", views.healthz_reminders, name="healthz_reminders"),
    # The `roles:` namespace: roles' own pages, plus those about projects and
    # people that also show work, which deliverables serves (roles never imports
    # deliverables; see the architecture map in the README).
    path("", include((roles_urls.urlpatterns + roles_pages, roles_urls.app_name))),
    path("", include("deliverables.urls")),
    path("", include("deliverables.practices.urls")),
    path("", include("deliverables.reviews.urls")),
    path("", include("deliverables.readiness.urls")),
    path("", include("deliverables.cards.urls")),
    # Settings > API tokens (a person's own; admins revoke anyone's in the admin).
    path("", include("mlteam.accounts.urls")),
    # A project's webhooks and their delivery log (its managers).
    path("", include("mlteam.notifications.urls")),
    # A project's chat channels (Slack, Mattermost, Teams) and their message log.
    path("", include("mlteam.notifications.channels.urls")),
    path("", include("mlteam.calendars.urls")),
    path("", include("mlteam.search.urls")),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        roles_views.invitation_accept,
        name="invitation_accept",
    ),
    # Sign-in and sign-out are allauth's (two factors, single sign-on; mlteam.signin).
    path("accounts/login/", signin.sign_in, name="login"),
    path("accounts/logout/", allauth_views.logout, name="logout"),
    # A new password revokes the person's API tokens (mlteam.accounts.services).
    path(
        "accounts/password_change/",
        accounts_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    # Reset requests are counted like failed sign-ins (mlteam.accounts.throttling).
    path(
        "accounts/password_reset/",
        accounts_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password_reset/",
        accounts_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # allauth's own password and email pages lead to the ones above (which revoke
    # tokens and refuse single-sign-on-only people); emails are set by admins.
    path("accounts/password/change/", RedirectView.as_view(pattern_name="password_change")),
    path("accounts/password/set/", RedirectView.as_view(pattern_name="password_change")),
    path("accounts/password/reset/", RedirectView.as_view(pattern_name="password_reset")),
    path("accounts/email/", RedirectView.as_view(pattern_name="home")),
    path("accounts/signup/", RedirectView.as_view(pattern_name="login")),
    # Two factors (accounts/2fa/), single sign-on (accounts/oidc/<provider>/login/).
    path("accounts/", include("allauth.urls")),
    # The sign-in page offers the language switch too, so it works signed out;
    # signed in, the choice is remembered for the person's emails.
    path("i18n/setlang/", deliverables_views.language_switch, name="set_language"),
    # Reviews moved to their own app (issue 14): old admin bookmarks still land.
    re_path(
        r"^admin/deliverables/(?P<rest>review(?:cycle|event|reminder)?/.*)$",
        login_not_required(  # the admin asks for sign-in at the new address
            RedirectView.as_view(url="/admin/reviews/%(rest)s", permanent=True, query_string=True)
        ),
    ),
    path("api/v1/", include(api_urls)),
    path("api/", include(api_urls.docs_urlpatterns)),
    path("admin/", admin.site.urls),
]
