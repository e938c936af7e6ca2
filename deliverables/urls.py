from django.urls import path

from . import project_views, views

app_name = "deliverables"

urlpatterns = [
    path("deliverables/", views.deliverable_list, name="list"),
    path("deliverables/export.csv", views.deliverable_export, name="export"),
    path("deliverables/owners/", views.owner_options, name="owner_options"),
    path("my-work/", views.my_work, name="my_work"),
    path("dashboard/", views.portfolio_dashboard, name="portfolio_dashboard"),
    path("dashboard/activity/", views.portfolio_activity, name="portfolio_activity"),
    path("deliverables/<int:pk>/", views.deliverable_detail, name="detail"),
    path("deliverables/<int:pk>/status/", views.deliverable_transition, name="transition"),
    path("deliverables/<int:pk>/move/", views.deliverable_move, name="move"),
    path("deliverables/<int:pk>/inline/", views.deliverable_inline, name="inline"),
    path("deliverables/<int:pk>/cancel/", views.deliverable_cancel, name="cancel"),
    path("deliverables/<int:pk>/checklist/", views.deliverable_checklist, name="checklist"),
    path(
        "deliverables/<int:pk>/checklist/<int:item_pk>/",
        views.checklist_item_save,
        name="checklist_item",
    ),
    path("deliverables/<int:pk>/edit/", views.deliverable_edit, name="edit"),
    path("deliverables/<int:pk>/links/", views.link_add, name="link_add"),
    path(
        "deliverables/<int:pk>/links/<int:link_pk>/remove/", views.link_remove, name="link_remove"
    ),
    path("deliverables/<int:pk>/comments/", views.comment_add, name="comment_add"),
    path("projects/<int:pk>/board/", views.project_board, name="project_board"),
    path("work-view/", views.work_view_choose, name="work_view"),
    path("projects/<int:pk>/plan/", views.project_plan, name="plan"),
    path("projects/<int:pk>/deliverables/add/", views.deliverable_add, name="add"),
    path("settings/reminders/", views.reminder_preferences, name="reminder_preferences"),
]

# Pages named in the `roles:` namespace (mlteam/urls.py joins them to roles.urls):
# they show work as well as teams, and roles does not import deliverables.
roles_pages = [
    path("projects/", project_views.project_list, name="project_list"),
    path("projects/<int:pk>/", project_views.project_detail, name="project_detail"),
    path("projects/<int:pk>/activity/", project_views.project_activity, name="project_activity"),
    path("projects/<int:pk>/panels/", project_views.project_panels, name="project_panels"),
    path("people/", project_views.people_list, name="people_list"),
]
