"""An index that hands the team page's "Add a person" list over in its order.

The list is every active person not on the team, ordered by name
(`roles.forms.AddMemberForm`): with 2,000 people, sorting them took PostgreSQL
~1.8 ms of the ~2.2 ms the query ran (bench/pages.py, team page). This index
(partial: active people; covering: their id too) lets it read them in order
from the index alone. Where the planner finds the sort cheaper after all (a
table whose pages are not yet all-visible), the plan is the old one.

The index is on the user model's table (settings.AUTH_USER_MODEL), which has no
migrations of ours: it is added through the schema editor, so it is the same
index on every database.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

INDEX = models.Index(
    fields=["first_name", "last_name", "username"],
    include=["id"],
    condition=Q(is_active=True),
    name="user_active_by_name",
)


def add_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model(settings.AUTH_USER_MODEL), INDEX)


def remove_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model(settings.AUTH_USER_MODEL), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("roles", "0009_structured_history"),
    ]

    operations = [migrations.RunPython(add_index, remove_index)]
