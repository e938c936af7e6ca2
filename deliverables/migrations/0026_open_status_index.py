# The list of overdue (or open) work sorted by status reads its page off this index.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0025_dashboard_indexes"),
        ("roles", "0009_structured_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deliverable",
            index=models.Index(
                models.Case(
                    models.When(status="not_started", then=models.Value(0)),
                    models.When(status="in_progress", then=models.Value(1)),
                    models.When(status="in_review", then=models.Value(2)),
                    models.When(status="done", then=models.Value(3)),
                    models.When(status="blocked", then=models.Value(4)),
                    models.When(status="cancelled", then=models.Value(5)),
                    output_field=models.IntegerField(),
                ),
                models.F("due_date"),
                models.F("id"),
                condition=models.Q(("status__in", ("done", "cancelled")), _negated=True),
                name="deliverable_open_status_idx",
            ),
        ),
    ]
