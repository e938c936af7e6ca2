"""Deactivating a person now revokes their API tokens (services.people_tokens_revoke).
People switched off before that still hold theirs: knox refuses them only while the
account is inactive, so reactivating the person would bring them back. Revoke them
now, as a deactivation today would. Backwards: nothing to restore (revoked tokens
are deleted, their secrets were never kept)."""

from django.db import migrations


def revoke_inactive_peoples_tokens(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.filter(user__is_active=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_admins_revoke_tokens"),
    ]

    operations = [
        migrations.RunPython(revoke_inactive_peoples_tokens, migrations.RunPython.noop),
    ]
