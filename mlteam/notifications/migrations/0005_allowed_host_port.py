"""Allowed private hosts learn ports. A bare host now allows only its address's
default port (443 for https, 80 for http); until now it allowed every port. So
that no webhook working today is refused tomorrow, each allowed host that an
existing endpoint calls on another port gets an entry for that port too: the
allow-list narrows to what is in use. Backwards, each host keeps one bare entry."""

from urllib.parse import urlsplit

import django.core.validators
from django.db import migrations, models

KEPT_NOTE = "Added when allowed hosts learnt ports: an existing webhook calls this port."


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def keep_ports_in_use(apps, schema_editor):
    Allowed = apps.get_model("notifications", "WebhookAllowedHost")
    Endpoint = apps.get_model("notifications", "WebhookEndpoint")
    allowed = set(Allowed.objects.filter(port__isnull=True).values_list("host", flat=True))
    if not allowed:
        return
    in_use = set()
    for url in Endpoint.objects.values_list("url", flat=True).iterator():
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # refused when sent anyway
            continue
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower()
        if host in allowed and port is not None and port != _default_port(scheme):
            in_use.add((host, port))
    Allowed.objects.bulk_create(
        [Allowed(host=host, port=port, note=KEPT_NOTE) for host, port in sorted(in_use)]
    )


def one_entry_per_host(apps, schema_editor):
    """Backwards: the old schema has one entry per host, allowing every port."""
    Allowed = apps.get_model("notifications", "WebhookAllowedHost")
    kept = {}
    for entry in Allowed.objects.order_by("host", models.F("port").asc(nulls_first=True)):
        kept.setdefault(entry.host, entry.pk)
    Allowed.objects.exclude(pk__in=kept.values()).delete()
    Allowed.objects.update(port=None)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_history_fan_out_mark"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="webhookallowedhost",
            options={
                "ordering": ["host", "port"],
                "verbose_name": "allowed private host",
                "verbose_name_plural": "allowed private hosts",
            },
        ),
        migrations.AddField(
            model_name="webhookallowedhost",
            name="port",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Empty: only the address's default port (443 for https, 80 for http).",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(65535),
                ],
                verbose_name="port",
            ),
        ),
        migrations.AlterField(
            model_name="webhookallowedhost",
            name="host",
            field=models.CharField(
                help_text="A host name or address exactly as in the webhook's address, optionally with its port (hooks.internal:8443, [fd00::5]:8080).",
                max_length=255,
                verbose_name="host",
            ),
        ),
        migrations.RunPython(keep_ports_in_use, one_entry_per_host),
        migrations.AddConstraint(
            model_name="webhookallowedhost",
            constraint=models.UniqueConstraint(
                fields=("host", "port"),
                name="webhook_allowed_host_port_once",
                violation_error_message="This host and port are already allowed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookallowedhost",
            constraint=models.UniqueConstraint(
                condition=models.Q(("port__isnull", True)),
                fields=("host",),
                name="webhook_allowed_host_default_port_once",
                violation_error_message="This host is already allowed on its default port.",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookallowedhost",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("port__isnull", True),
                    models.Q(("port__gte", 1), ("port__lte", 65535)),
                    _connector="OR",
                ),
                name="webhook_allowed_host_port_range",
            ),
        ),
    ]
