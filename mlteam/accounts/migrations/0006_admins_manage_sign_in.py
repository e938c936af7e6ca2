"""Admins set the sign-in policy and the single-sign-on-only domains, configure the
single sign-on providers, and reset people's second factors (README "Sign-in")."""

from django.db import migrations

from mlteam.migration_ops import AdminsGrant

GRANTS = {
    "accounts": ["view_signinpolicy", "change_signinpolicy"]
    + [f"{action}_singlesignondomain" for action in ("view", "add", "change", "delete")]
    + [f"{action}_identityprovider" for action in ("view", "add", "change", "delete")],
    "socialaccount": [f"{action}_socialapp" for action in ("view", "add", "change", "delete")],
    "mfa": ["view_authenticator", "delete_authenticator"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_sign_in_policy"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [AdminsGrant(GRANTS)]
