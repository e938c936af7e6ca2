from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("settings/tokens/", views.token_list, name="token_list"),
    path("settings/tokens/<str:token_key>/revoke/", views.token_revoke, name="token_revoke"),
]
