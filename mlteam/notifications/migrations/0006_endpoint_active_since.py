"""Endpoints remember when they were last turned on (`active_since`): the changes
recorded while one was off are not sent to it later by the history catch-up.
An existing endpoint counts as on since it was made (the rule until now)."""

import django.utils.timezone
from django.db import migrations, models


def since_created(apps, schema_editor):
    Endpoint = apps.get_model("notifications", "WebhookEndpoint")
    Endpoint.objects.update(active_since=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_allowed_host_port"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="active_since",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="on since"),
        ),
        migrations.RunPython(since_created, migrations.RunPython.noop),
    ]
