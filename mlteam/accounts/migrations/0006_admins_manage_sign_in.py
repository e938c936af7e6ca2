"""Admins set the sign-in policy and the single-sign-on-only domains, configure the
single sign-on providers, and reset people's second factors (README "Sign-in")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "accounts": ["view_signinpolicy", "change_signinpolicy"]
    + [f"{action}_singlesignondomain" for action in ("view", "add", "change", "delete")]
    + [f"{action}_identityprovider" for action in ("view", "add", "change", "delete")],
    "socialaccount": [f"{action}_socialapp" for action in ("view", "add", "change", "delete")],
    "mfa": ["view_authenticator", "delete_authenticator"],
}


def _permissions(apps):
    from django.db.models import Q

    Permission = apps.get_model("auth", "Permission")
    condition = Q(pk__in=[])
    for app_label, codenames in GRANTS.items():
        condition |= Q(content_type__app_label=app_label, codename__in=codenames)
    return Permission.objects.filter(condition)


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    admins, _ = Group.objects.get_or_create(name="Admins")
    admins.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    admins = Group.objects.filter(name="Admins").first()
    if admins:
        admins.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_sign_in_policy"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
