from django.urls import path

from . import views

app_name = "cards"

urlpatterns = [
    path("deliverables/<int:pk>/card/", views.card_page, name="card"),
    path(
        "deliverables/<int:pk>/card/sections/<int:section_pk>/",
        views.card_section_save,
        name="section",
    ),
    path("deliverables/<int:pk>/card/link/", views.card_link, name="link"),
    path("deliverables/<int:pk>/card/review/", views.card_review, name="review"),
    path("deliverables/<int:pk>/card/export.md", views.card_export, name="export"),
    path("deliverables/<int:pk>/card/print/", views.card_print, name="print"),
]
