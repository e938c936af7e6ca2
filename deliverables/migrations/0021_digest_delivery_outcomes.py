"""Digests are retried until a catch-up window ends instead of for 8 attempts;
several owed days go out as one message; a send the mail server took but never
answered is recorded as an unknown outcome (deliverables/reminders.py).

Existing unsent digests get their window in the recipient's time zone; those the
old attempt count gave up on become "undelivered". Admins may see digests and
the reminder ledger in the admin, where delivery problems are reported."""

import zoneinfo
from datetime import datetime, timedelta

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

UNSENT = ["pending", "sending"]
ADMIN_VIEWS = ["view_digest", "view_reminder"]


def _zone(name):
    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:  # a bad stored name: the site's zone, as the sweep does
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def fill(apps, schema_editor):
    Digest = apps.get_model("deliverables", "Digest")
    Preference = apps.get_model("deliverables", "ReminderPreference")
    # Finished digests: the window no longer matters; their creation time will do.
    Digest.objects.exclude(status__in=UNSENT).update(deliver_by=models.F("created_at"))
    Digest.objects.filter(status="cancelled", last_error__startswith="gave up:").update(
        status="undelivered"
    )
    zones = dict(Preference.objects.values_list("user_id", "time_zone"))
    catch_up = timedelta(days=1 + settings.REMINDER_CATCH_UP_DAYS)
    rows = []
    for digest in Digest.objects.filter(status__in=UNSENT).only("pk", "recipient_id", "local_date"):
        zone = _zone(zones.get(digest.recipient_id, settings.TIME_ZONE))
        digest.deliver_by = datetime.combine(
            digest.local_date + catch_up, datetime.min.time(), tzinfo=zone
        )
        rows.append(digest)
    Digest.objects.bulk_update(rows, ["deliver_by"], batch_size=1000)

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admins, _ = Group.objects.get_or_create(name="Admins")
    admins.permissions.add(
        *Permission.objects.filter(content_type__app_label="deliverables", codename__in=ADMIN_VIEWS)
    )
    _settle_constraints(schema_editor)


def _settle_constraints(schema_editor):
    """PostgreSQL: check the deferred foreign keys of the rows written above now, so
    the ALTER TABLE that follows in this transaction is allowed."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def unfill(apps, schema_editor):
    """Back to the statuses the old code knows (and that fit its column)."""
    Digest = apps.get_model("deliverables", "Digest")
    for new, old in {
        "undelivered": "cancelled",
        "handed_over": "sending",
        "merged": "sent",
        "unknown": "sent",
    }.items():
        Digest.objects.filter(status=new).update(status=old)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    admins = Group.objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="deliverables", codename__in=ADMIN_VIEWS
            )
        )
    _settle_constraints(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0020_reminder_preference_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="digest",
            name="digest_unsent_idx",
        ),
        migrations.AddField(
            model_name="digest",
            name="deliver_by",
            field=models.DateTimeField(
                help_text="Not delivered by then, the digest is given up (REMINDER_CATCH_UP_DAYS).",
                null=True,
                verbose_name="catch-up window ends",
            ),
        ),
        migrations.AddField(
            model_name="digest",
            name="failing_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="failing since"),
        ),
        migrations.AddField(
            model_name="digest",
            name="handed_over_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the text of the latest message carrying it went to the mail server.",
                null=True,
                verbose_name="handed to the mail server at",
            ),
        ),
        migrations.AddField(
            model_name="digest",
            name="sent_with",
            field=models.ForeignKey(
                blank=True,
                help_text="The digest whose message also carried this one.",
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="carried",
                to="deliverables.digest",
                verbose_name="sent with",
            ),
        ),
        migrations.AddField(
            model_name="digest",
            name="unknown_outcomes",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Sends the mail server took but never answered; one repeat at most.",
                verbose_name="sends with no answer",
            ),
        ),
        migrations.AlterField(
            model_name="digest",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sending", "Being sent"),
                    ("handed_over", "Handed to the mail server, waiting for its answer"),
                    ("sent", "Sent"),
                    ("merged", "Sent with another digest"),
                    ("unknown", "Outcome unknown (the mail server never answered)"),
                    ("undelivered", "Not delivered (mail failed until the catch-up window ended)"),
                    ("cancelled", "Not sent (nothing left to say)"),
                ],
                default="pending",
                max_length=12,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(fill, unfill),
        migrations.AlterField(
            model_name="digest",
            name="deliver_by",
            field=models.DateTimeField(
                help_text="Not delivered by then, the digest is given up (REMINDER_CATCH_UP_DAYS).",
                verbose_name="catch-up window ends",
            ),
        ),
        migrations.AddIndex(
            model_name="digest",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["pending", "sending", "handed_over", "unknown", "undelivered"])
                ),
                fields=["status", "next_attempt_at"],
                name="digest_unfinished_idx",
            ),
        ),
    ]
