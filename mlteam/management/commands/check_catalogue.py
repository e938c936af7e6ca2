"""Quality gate: the Japanese catalogue is complete, compiled, and covers every string."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SOURCE_DIRS = ["mlteam", "roles", "deliverables", "templates"]


def catalogue_problems(
    base_dir: Path, *, extract: bool = True, require_extraction: bool = False
) -> list[str]:
    """Return readable problems with locale/ja; an empty list means it is complete.

    1. Every entry of django.po is translated and none is fuzzy.
    2. django.mo holds exactly the translations in django.po (it was compiled).
    3. When xgettext is present (always in CI), extracting the sources afresh finds
       no message missing from django.po.
    """
    po_path = base_dir / "locale" / "ja" / "LC_MESSAGES" / "django.po"
    mo_path = po_path.with_suffix(".mo")
    if not po_path.exists():
        return [f"{po_path} is missing: run `make messages`."]
    po = polib.pofile(str(po_path))
    problems = [f"untranslated: {entry.msgid!r}" for entry in po.untranslated_entries()]
    problems += [f"fuzzy: {entry.msgid!r}" for entry in po.fuzzy_entries()]

    if not mo_path.exists():
        problems.append(f"{mo_path} is missing: run `make messages`.")
    else:
        compiled = {
            (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(mo_path))
        }
        for entry in po.translated_entries():
            got = compiled.get((entry.msgctxt, entry.msgid))
            if (
                got is None
                or got[0] != entry.msgstr
                or (entry.msgstr_plural and got[1] != entry.msgstr_plural)
            ):
                problems.append(f"django.mo is out of date ({entry.msgid!r}): run `make messages`.")
                break

    if not extract:
        return problems
    if shutil.which("xgettext") is None:
        if require_extraction:
            problems.append("xgettext (Debian package gettext) is needed to check extraction.")
        return problems
    known = {(entry.msgctxt, entry.msgid) for entry in po}
    for entry in _extract(base_dir):
        if (entry.msgctxt, entry.msgid) not in known:
            problems.append(f"not in the catalogue: {entry.msgid!r}: run `make messages`.")
    return problems


def _extract(base_dir: Path) -> list[polib.POEntry]:
    """Run makemessages on a copy of the sources and return what it found."""
    with tempfile.TemporaryDirectory(prefix="mlteam-messages-") as tmp:
        root = Path(tmp)
        for name in SOURCE_DIRS:
            shutil.copytree(
                base_dir / name, root / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        shutil.copy(base_dir / "manage.py", root / "manage.py")
        (root / "locale").mkdir()
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "--locale", "ja", "--no-location"],
            cwd=root,
            check=True,
            capture_output=True,
            env={"DJANGO_SETTINGS_MODULE": "mlteam.settings.test", "PATH": _path()},
        )
        return list(polib.pofile(str(root / "locale" / "ja" / "LC_MESSAGES" / "django.po")))


def _path() -> str:
    return str(Path(shutil.which("xgettext") or "/usr/bin/xgettext").parent) + ":/usr/bin:/bin"


class Command(BaseCommand):
    help = "Fail when the ja catalogue has untranslated, fuzzy, uncompiled or missing messages."

    def handle(self, *args, **options):
        problems = catalogue_problems(Path(settings.BASE_DIR), require_extraction=settings.CI)
        if problems:
            raise CommandError(
                "The Japanese catalogue is not complete:\n  " + "\n  ".join(problems)
            )
        self.stdout.write(self.style.SUCCESS("The Japanese catalogue is complete."))
