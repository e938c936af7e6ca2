"""One-off deliverables: a deliverable's own description, types the plan does not
propose (the free-form "Other" type is seeded by 0030, apart: on PostgreSQL a
migration that writes rows and then alters their table, as this one undone would,
fails with "pending trigger events")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0026_open_status_index"),
        ("roles", "0010_person_choice_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="deliverable",
            name="description",
            field=models.TextField(
                blank=True,
                help_text="Optional. What is expected, for work the type does not describe.",
                verbose_name="description",
            ),
        ),
        migrations.AddField(
            model_name="deliverabletype",
            name="proposed",
            field=models.BooleanField(
                default=True,
                help_text="Offered when a project's deliverables are planned from its roles.",
                verbose_name="proposed in plans",
            ),
        ),
    ]
