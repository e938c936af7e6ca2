# The deliverables list reads its default order off an index.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('deliverables', '0010_open_work'),
        ('roles', '0005_handbook_review_date'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='deliverable',
            index=models.Index(fields=['due_date', 'id'], name='deliverable_due_idx'),
        ),
    ]
