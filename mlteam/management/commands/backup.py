"""`make backup`: back up the database into a new file and print its path."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from mlteam.backups import VENDOR_NAMES, BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = (
        "Back up the database into a new timestamped file in BACKUP_DIR (default "
        "var/backups/) and print its path on the last line (alone with -v 0)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory", type=Path, help="Write the backup here instead of BACKUP_DIR."
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="Afterwards delete all but the newest N backups in that folder.",
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="Which DATABASES entry (default)."
        )

    def handle(self, *args, directory: Path | None, keep: int | None, database: str, **options):
        if keep is not None and keep < 1:
            raise CommandError(f"--keep must be at least 1, not {keep}.")
        directory = directory or Path(settings.BACKUP_DIR)
        try:
            backup = backup_create(
                database=connections[database].settings_dict, directory=directory
            )
            pruned = backups_prune(directory=directory, keep=keep) if keep else []
        except BackupError as error:
            raise CommandError(str(error)) from None
        manifest = backup.manifest
        if options["verbosity"] >= 1:
            size = backup.path.stat().st_size
            self.stdout.write(
                f"Backed up the {VENDOR_NAMES[manifest.vendor]} database: "
                f"{len(manifest.tables)} tables, {manifest.rows:,} rows, "
                f"{len(manifest.migrations)} migrations applied ({size / 1e6:,.1f} MB)."
            )
            for path in pruned:
                self.stdout.write(f"Deleted an older backup: {path}")
        self.stdout.write(str(backup.path))
