"""An index on (project, type) of deliverables: the dashboards find each project's
process documentation (its handbook) through it, instead of combining the project
and type indexes for every project of the portfolio's page (bench/pages.py).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0024_structured_history"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deliverable",
            index=models.Index(fields=["project", "type"], name="deliverable_project_type_idx"),
        ),
    ]
