"""`make restore BACKUP=path`: restore a file made by `backup` into the database."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from mlteam.backups import (
    VENDOR_NAMES,
    Archive,
    BackupError,
    RestoreCheck,
    backup_open,
    backup_restore,
    restore_check,
)


class Command(BaseCommand):
    help = (
        "Restore a backup made by the backup command into the configured database, "
        "all or nothing, and check every table's row count against the backup. A "
        "database that is not empty is replaced only with --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="The backup file (mlteam-....tar).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace everything in a database that is not empty.",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Which DATABASES entry (default)."
        )

    def handle(self, *args, backup: Path, replace: bool, interactive: bool, database: str, **opts):
        target = connections[database].settings_dict
        try:
            with backup_open(backup) as archive:
                check = restore_check(archive, database=target, replace=replace)
                if interactive:
                    self._confirm(archive, check)
                backup_restore(archive, database=target, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = archive.manifest
        self.stdout.write(
            f"Restored {describe(archive)} into the {check.target}; every table's row "
            "count matches the backup."
        )
        if check.pending_migrations:
            self.stdout.write(
                f"This code has {len(check.pending_migrations)} migrations the backup's "
                "schema lacks: run `python manage.py migrate` before starting the app."
            )
        elif manifest.migrations:
            self.stdout.write("Its schema is this code's: no migration is needed.")

    def _confirm(self, archive: Archive, check: RestoreCheck) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "A restore replaces data, so it asks first, and nobody can answer here: "
                "add --no-input (make restore ... CONFIRM=yes) to go ahead without asking."
            )
        now = (
            f"it holds {check.target_tables} tables and other objects now, all replaced"
            if check.target_tables
            else "it is empty now"
        )
        self.stdout.write(
            f"Restore {describe(archive)}\ninto the {check.target} ({now})?\n"
            "Stop the web server, worker and beat first."
        )
        if input('Type "yes" to restore: ').strip().lower() != "yes":
            raise CommandError("Nothing was restored.")


def describe(archive: Archive) -> str:
    manifest = archive.manifest
    release = ", ".join(
        f"{label} {value[:12]}"
        for label, value in (
            ("MLTeam", manifest.app.get("version")),
            ("commit", manifest.app.get("commit")),
        )
        if value
    )
    return (
        f"{archive.path} ({VENDOR_NAMES[manifest.vendor]}, made {manifest.created_at}"
        f"{', ' + release if release else ''}: {len(manifest.tables)} tables, "
        f"{manifest.rows:,} rows)"
    )
