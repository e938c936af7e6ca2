"""Performance reviews move to their own app (`deliverables.reviews`, label
`reviews`). Only Django's record of the models leaves deliverables here: the
tables stay as they are, and `reviews.0001_initial` takes them over under the
same names, so no row moves.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0021_digest_delivery_outcomes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="reviewevent",
                    name="review",
                ),
                migrations.RemoveField(
                    model_name="reviewcycle",
                    name="created_by",
                ),
                migrations.RemoveField(
                    model_name="reviewreminder",
                    name="cycle",
                ),
                migrations.RemoveField(
                    model_name="reviewevent",
                    name="actor",
                ),
                migrations.RemoveField(
                    model_name="reviewreminder",
                    name="digest",
                ),
                migrations.RemoveField(
                    model_name="reviewreminder",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="reviewreminder",
                    name="recipient",
                ),
                migrations.DeleteModel(
                    name="Review",
                ),
                migrations.DeleteModel(
                    name="ReviewCycle",
                ),
                migrations.DeleteModel(
                    name="ReviewEvent",
                ),
                migrations.DeleteModel(
                    name="ReviewReminder",
                ),
            ],
            database_operations=[],
        ),
    ]
