from django.urls import path

from . import views

app_name = "practices"

urlpatterns = [
    path("projects/<int:pk>/handbook/", views.handbook, name="handbook"),
    path("projects/<int:pk>/handbook/newcomer/", views.handbook_newcomer, name="handbook_newcomer"),
    path(
        "projects/<int:pk>/handbook/review-date/",
        views.handbook_review_date,
        name="handbook_review_date",
    ),
    path(
        "projects/<int:pk>/handbook/questions/",
        views.handbook_question_add,
        name="handbook_question_add",
    ),
    path(
        "projects/<int:pk>/handbook/questions/<int:item_pk>/remove/",
        views.handbook_question_remove,
        name="handbook_question_remove",
    ),
]
