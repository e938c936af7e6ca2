"""`manage.py changepassword`: Django's command, saving through `password_set`, so
a password set from the shell revokes the person's API tokens and signs them out
everywhere, as every other way of setting one does (mlteam.accounts.services).
Django's own command would save the password alone; this app comes before
django.contrib.auth in INSTALLED_APPS so that this one is found first."""

from __future__ import annotations

import getpass

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from mlteam.accounts import services

TRIES = 3


class Command(changepassword.Command):
    help = (
        "Change a person's password; their personal API tokens are revoked and their "
        "sessions ended with the old one."
    )

    def handle(self, *args, **options):
        username = options["username"] or getpass.getuser()
        try:
            user = changepassword.UserModel._default_manager.using(options["database"]).get(
                **{changepassword.UserModel.USERNAME_FIELD: username}
            )
        except changepassword.UserModel.DoesNotExist:
            raise CommandError(f"user '{username}' does not exist") from None
        self.stdout.write(f"Changing password for user '{user}'")
        password = self._ask(user)
        revoked = services.password_set(
            user=user, password=password, reason=services.RevokeReason.CHANGED_BY_COMMAND
        )
        if revoked:
            self.stdout.write(f"{revoked} API token(s) of '{user}' revoked with the old password.")
        return f"Password changed successfully for user '{user}'"

    def _ask(self, user) -> str:
        """The new password, typed twice and valid, within TRIES attempts (as Django's)."""
        for _attempt in range(TRIES):
            first = self._get_pass()
            second = self._get_pass("Password (again): ")
            if first != second:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(second, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            return first
        raise CommandError(f"Aborting password change for user '{user}' after {TRIES} attempts")
