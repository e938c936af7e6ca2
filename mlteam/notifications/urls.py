from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("settings/notifications/", views.notification_settings, name="settings"),
    path("settings/notifications/chat/", views.chat_address_save, name="chat_save"),
    path("settings/notifications/chat/test/", views.chat_address_test, name="chat_test"),
    path("settings/notifications/chat/remove/", views.chat_address_remove, name="chat_remove"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/count/", views.inbox_count, name="inbox_count"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:entry_pk>/read/", views.inbox_read, name="inbox_read"),
    path("inbox/<int:entry_pk>/open/", views.inbox_open, name="inbox_open"),
    path("projects/<int:pk>/webhooks/", views.endpoints, name="endpoints"),
    path("projects/<int:pk>/webhooks/new/", views.endpoint_create, name="endpoint_create"),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/edit/",
        views.endpoint_edit,
        name="endpoint_edit",
    ),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/switch/",
        views.endpoint_toggle,
        name="endpoint_toggle",
    ),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/rotate/",
        views.endpoint_rotate,
        name="endpoint_rotate",
    ),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/delete/",
        views.endpoint_delete,
        name="endpoint_delete",
    ),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/deliveries/",
        views.deliveries,
        name="deliveries",
    ),
    path(
        "projects/<int:pk>/webhooks/<int:endpoint_pk>/deliveries/<int:delivery_pk>/replay/",
        views.delivery_replay,
        name="delivery_replay",
    ),
]
