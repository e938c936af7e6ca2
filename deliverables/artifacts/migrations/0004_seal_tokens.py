"""Artifact systems' tokens are kept sealed (mlteam.sealed): the column is renamed,
widened for the ciphertext, and every token saved in clear is sealed. Reversible
(the tokens are opened again, with the current SECRET_KEY)."""

from django.db import migrations, models

from mlteam.sealed import seal, unseal

PURPOSE = "artifact-system-token"  # ArtifactSystem's TOKEN_PURPOSE, fixed here


def seal_tokens(apps, schema_editor):
    System = apps.get_model("artifacts", "ArtifactSystem")
    for system in System.objects.exclude(encrypted_token="").only("pk", "encrypted_token"):
        if unseal(PURPOSE, system.encrypted_token) is None:  # in clear: seal it
            System.objects.filter(pk=system.pk).update(
                encrypted_token=seal(PURPOSE, system.encrypted_token)
            )


def open_tokens(apps, schema_editor):
    System = apps.get_model("artifacts", "ArtifactSystem")
    for system in System.objects.exclude(encrypted_token="").only("pk", "encrypted_token"):
        opened = unseal(PURPOSE, system.encrypted_token)
        System.objects.filter(pk=system.pk).update(encrypted_token=(opened or "")[:500])


class Migration(migrations.Migration):
    dependencies = [
        ("artifacts", "0003_error_kind_forbidden_address"),
    ]

    operations = [
        migrations.RenameField("artifactsystem", "token", "encrypted_token"),
        migrations.AlterField(
            model_name="artifactsystem",
            name="encrypted_token",
            field=models.CharField(
                blank=True, editable=False, max_length=1000, verbose_name="token (encrypted)"
            ),
        ),
        migrations.RunPython(seal_tokens, open_tokens),
    ]
