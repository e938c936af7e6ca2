from django.urls import path

from . import views

app_name = "roles"

# The project list, project page, its activity and the people directory are
# also `roles:` pages; they show work, so deliverables serves them
# (`deliverables.urls.roles_pages`, joined to these in mlteam/urls.py).

urlpatterns = [
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/archive/", views.project_archive, name="project_archive"),
    path("projects/<int:pk>/restore/", views.project_unarchive, name="project_unarchive"),
    path("projects/<int:pk>/team/", views.project_team, name="project_team"),
    path("projects/<int:pk>/team/candidates/", views.team_candidates, name="team_candidates"),
    path("projects/<int:pk>/team/add/", views.team_add, name="team_add"),
    path("projects/<int:pk>/team/invite/", views.team_invite, name="team_invite"),
    path(
        "projects/<int:pk>/team/<int:membership_pk>/remove/", views.team_remove, name="team_remove"
    ),
    path(
        "projects/<int:pk>/team/<int:membership_pk>/assign/", views.team_assign, name="team_assign"
    ),
    path(
        "projects/<int:pk>/team/<int:membership_pk>/roles/<int:role_pk>/",
        views.team_cell,
        name="team_cell",
    ),
    path(
        "projects/<int:pk>/assignments/<int:assignment_pk>/edit/",
        views.assignment_edit,
        name="assignment_edit",
    ),
    path(
        "projects/<int:pk>/assignments/<int:assignment_pk>/unassign/",
        views.assignment_remove,
        name="assignment_remove",
    ),
    path("coverage/", views.portfolio_coverage, name="portfolio_coverage"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/<slug:slug>/", views.role_detail, name="role_detail"),
]
