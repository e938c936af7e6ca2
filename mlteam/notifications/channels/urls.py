from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("projects/<int:pk>/chat/", views.channels, name="channels"),
    path("projects/<int:pk>/chat/new/", views.channel_create, name="channel_create"),
    path("projects/<int:pk>/chat/<int:channel_pk>/edit/", views.channel_edit, name="channel_edit"),
    path(
        "projects/<int:pk>/chat/<int:channel_pk>/switch/",
        views.channel_toggle,
        name="channel_toggle",
    ),
    path(
        "projects/<int:pk>/chat/<int:channel_pk>/delete/",
        views.channel_delete,
        name="channel_delete",
    ),
    path("projects/<int:pk>/chat/<int:channel_pk>/test/", views.channel_test, name="channel_test"),
    path(
        "projects/<int:pk>/chat/<int:channel_pk>/messages/",
        views.deliveries,
        name="deliveries",
    ),
]
