from django.urls import path

from . import views

app_name = "readiness"

urlpatterns = [
    path("deliverables/<int:pk>/readiness/", views.rubric_page, name="rubric"),
    path("deliverables/<int:pk>/readiness/<int:item_pk>/", views.rubric_mark, name="rubric_mark"),
]
