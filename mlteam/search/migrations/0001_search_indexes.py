"""GIN indexes for the site search's full text (PostgreSQL only; SQLite searches by
"contains", without them). Each is built on the same vector the search filters by
(`mlteam.search.selectors.FIELDS` and `vector`), so the planner uses it: the big
tables only (deliverables, their links, checklist answers, comments); projects and
people are few. Measured by bench/pages.py ("search at 50,000 deliverables")."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# (app label, model, fields, index name): the fields as in selectors.FIELDS.
INDEXES = [
    ("deliverables", "Deliverable", ("title", "description"), "search_deliverable_gin"),
    ("deliverables", "DeliverableLink", ("label",), "search_link_gin"),
    ("deliverables", "ChecklistItem", ("answer",), "search_answer_gin"),
    ("deliverables", "DeliverableComment", ("body",), "search_comment_gin"),
]


def _indexes(apps):
    for app_label, model_name, fields, name in INDEXES:
        model = apps.get_model(app_label, model_name)
        yield model, GinIndex(SearchVector(*fields, config="simple"), name=name)


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.add_index(model, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model, index in _indexes(apps):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("deliverables", "0027_one_off_deliverables")]

    operations = [migrations.RunPython(add_indexes, remove_indexes)]
