from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/<str:token_key>/revoke/", views.token_revoke, name="token_revoke"),
    # Served here rather than by allauth.usersessions (whose page reads each session
    # one by one), at allauth's address, so its links land here too.
    path("accounts/sessions/", views.session_list, name="session_list"),
    path(
        "accounts/sessions/sign-out-others/",
        views.sessions_end_others,
        name="sessions_end_others",
    ),
    path("accounts/sessions/sign-out-all/", views.sessions_end_all, name="sessions_end_all"),
]
