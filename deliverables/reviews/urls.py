from django.urls import path

from . import views

app_name = "reviews"

urlpatterns = [
    path("reviews/", views.cycle_list, name="cycle_list"),
    path("reviews/new/", views.cycle_create, name="cycle_create"),
    path("reviews/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("reviews/<int:pk>/edit/", views.cycle_edit, name="cycle_edit"),
    path(
        "reviews/<int:pk>/people/<int:person_pk>/expectations/",
        views.expectations_create,
        name="expectations_create",
    ),
    path("reviews/review/<int:pk>/", views.review_detail, name="review_detail"),
    path("reviews/review/<int:pk>/reads/", views.review_reads, name="review_reads"),
    path(
        "reviews/review/<int:pk>/expectations/", views.expectations_edit, name="expectations_edit"
    ),
    path(
        "reviews/review/<int:pk>/expectations/acknowledge/",
        views.expectations_acknowledge,
        name="expectations_acknowledge",
    ),
    path("reviews/review/<int:pk>/evaluation/", views.evaluation_edit, name="evaluation_edit"),
    path(
        "reviews/review/<int:pk>/evaluation/acknowledge/",
        views.evaluation_acknowledge,
        name="evaluation_acknowledge",
    ),
    path(
        "reviews/review/<int:pk>/self-assessment/",
        views.self_assessment,
        name="self_assessment",
    ),
]
