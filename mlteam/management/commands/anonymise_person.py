from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mlteam.models import Anonymisation
from mlteam.people import ANONYMISED_USERNAME_PREFIX
from mlteam.services import anonymisation_plan, person_anonymise


def _system_login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return ""


class Command(BaseCommand):
    help = (
        "Anonymise a person for a data-protection request: their name, email and "
        "sign-in go, the history they are part of stays and shows them as 'Former "
        "member'. A dry run unless --yes. See docs/data-retention.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The person's username.")
        parser.add_argument(
            "--reason", default="", help="Why (for example the request it answers); kept."
        )
        parser.add_argument("--yes", action="store_true", help="Anonymise; without it, a dry run.")
        parser.add_argument(
            "--force", action="store_true", help="Anonymise a superuser too (refused otherwise)."
        )
        parser.add_argument("--by", default="", help="Your admin username, recorded as running it.")

    def handle(self, *args, username: str, reason: str, yes: bool, force: bool, by: str, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No person has the username {username!r}. (An anonymised person's "
                f"username is {ANONYMISED_USERNAME_PREFIX}<id>.)"
            )
        done = Anonymisation.objects.filter(user=user).first()
        if done is not None:
            self.stdout.write(
                f"{username} was already anonymised on {done.created_at:%Y-%m-%d %H:%M %Z}; "
                "nothing to do."
            )
            return
        run_by = None
        if by:
            run_by = User.objects.filter(username=by, is_active=True, is_staff=True).first()
            if run_by is None:
                raise CommandError(f"--by {by!r} is not an active admin account.")
        if user.is_superuser and not force:
            raise CommandError(
                f"{username} is a superuser: take the superuser status away first, or "
                "confirm with --force."
            )
        if not yes:
            self._dry_run(user)
            return
        if not reason.strip():
            raise CommandError("Say why with --reason (for example, the request it answers).")
        try:
            record = person_anonymise(
                user=user, reason=reason, run_by=run_by, operator=_system_login(), force=force
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Anonymised account {user.pk}: now {record.user.username}, shown as 'Former "
            f"member'. Recorded as anonymisation {record.pk}."
        )

    def _dry_run(self, user) -> None:
        plan = anonymisation_plan(user)
        write = self.stdout.write
        write(f"Dry run: would anonymise account {user.pk} ({user.get_username()}).")
        write("Would change:")
        write(f"  username -> {plan['username']}; first and last name, email -> empty")
        write("  password -> unusable (ends any invitation link); inactive; not staff or superuser")
        write(f"  groups removed: {plan['groups']}")
        write(f"  reminder settings removed: {plan['reminder settings']}")
        write(f"  sessions ended: {plan['sessions']}")
        write(f"  owner names in deliverable history renamed: {plan['owner names in history']}")
        write(f"  admin log entries renamed: {plan['admin log entries']}")
        write("Would keep, shown as 'Former member' (free text as written):")
        for kind, count in plan["kept"].items():
            write(f"  {kind}: {count}")
        write("Nothing changed. Run again with --yes and --reason to anonymise.")
