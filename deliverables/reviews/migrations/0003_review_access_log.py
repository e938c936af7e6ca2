"""The review access log (`ReviewAccess`). Reversed, the model's content type
goes with its table (and its permissions with it), so going back leaves nothing
of it under this app."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def _forget_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="reviews", model="reviewaccess").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('reviews', '0002_structured_history'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # First, so that reversed it runs last, once the table is gone.
        migrations.RunPython(migrations.RunPython.noop, _forget_content_type),
        migrations.CreateModel(
            name='ReviewAccess',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reader_name', models.CharField(max_length=300, verbose_name="reader's name")),
                ('parts', models.JSONField(default=list, verbose_name='what was read')),
                ('surface', models.CharField(choices=[('web', 'review pages'), ('admin', 'Django admin')], max_length=10, verbose_name='where')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='when')),
                ('reader', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reader')),
                ('review', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='accesses', to='reviews.review', verbose_name='review')),
            ],
            options={
                'verbose_name': 'review read',
                'verbose_name_plural': 'review access log',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['review', '-created_at', '-id'], name='reviewaccess_review_new')],
            },
        ),
    ]
