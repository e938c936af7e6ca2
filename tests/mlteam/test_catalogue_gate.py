from __future__ import annotations

from pathlib import Path

import polib
from django.core.management import call_command

from mlteam.management.commands.check_catalogue import catalogue_problems


def test_japanese_catalogue_is_complete(capsys):
    call_command("check_catalogue")
    assert "complete" in capsys.readouterr().out


def test_gate_reports_untranslated_and_fuzzy_entries(tmp_path):
    po_dir = tmp_path / "locale" / "ja" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Hello", msgstr=""))
    po.append(polib.POEntry(msgid="Bye", msgstr="さようなら", flags=["fuzzy"]))
    po.save(str(po_dir / "django.po"))
    problems = catalogue_problems(Path(tmp_path), extract=False)
    assert "untranslated: 'Hello'" in problems
    assert "fuzzy: 'Bye'" in problems
    assert any("django.mo" in p for p in problems)
