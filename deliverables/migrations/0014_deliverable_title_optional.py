"""A deliverable's title becomes optional: it is named by its type (in the reader's
language) and keeps a title only when a person typed one.

Titles the old code generated are blanked: the plan's proposal and the demo data
wrote "<type name>: <project name>", the type name in the planner's language
(English source or its Japanese translation). A type changed since still left its old
name in the title, so every type's name counts. Anything else was typed and is kept,
including a proposal someone edited. (generate_load_data's "<type name> <n>" is not
touched: it only ever ran on benchmark databases, and "PRD 2" may well be typed.)
"""

from django.conf import settings
from django.db import migrations, models
from django.utils import translation

BATCH = 1000


def generated_type_names(type_names) -> set[str]:
    """Every name a type may have had in a generated title: the source name and its
    translation in each of the site's languages."""
    names = set(type_names)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.update(translation.gettext(name) for name in type_names)
    return names


def blank_generated_titles(apps, schema_editor) -> None:
    Deliverable = apps.get_model("deliverables", "Deliverable")
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    names = generated_type_names(list(DeliverableType.objects.values_list("name", flat=True)))
    generated = []
    rows = (
        Deliverable.objects.filter(title__contains=": ")
        .values_list("pk", "title", "project__name")
        .order_by("pk")
    )
    for pk, title, project_name in rows.iterator(chunk_size=BATCH):
        suffix = f": {project_name}"
        if title.endswith(suffix) and title[: -len(suffix)] in names:
            generated.append(pk)
    for start in range(0, len(generated), BATCH):
        Deliverable.objects.filter(pk__in=generated[start : start + BATCH]).update(title="")


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0013_reminder_languages_and_working_days"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deliverable",
            name="title",
            field=models.CharField(
                blank=True,
                help_text=(
                    "Optional. The deliverable is named by its type; add a title only to tell "
                    "it apart, such as “Churn model v2”."
                ),
                max_length=200,
                verbose_name="own title",
            ),
        ),
        migrations.RunPython(blank_generated_titles, migrations.RunPython.noop),
    ]
