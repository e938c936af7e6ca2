from django.urls import path

from . import views

app_name = "calendars"

urlpatterns = [
    path("settings/calendar/", views.feed_settings, name="settings"),
    path("settings/calendar/<int:pk>/turn-off/", views.feed_revoke, name="revoke"),
    path("calendar/<str:secret>.ics", views.feed, name="feed"),
]
