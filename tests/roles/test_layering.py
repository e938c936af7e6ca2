"""roles is the lower layer: deliverables builds on it, never the other way round
(the architecture map in the README)."""

from __future__ import annotations

import ast
from pathlib import Path

import roles

ROLES = Path(roles.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_roles_imports_deliverables():
    files = sorted(ROLES.rglob("*.py"))
    assert ROLES / "selectors.py" in files
    offenders = {
        str(path.relative_to(ROLES.parent)): sorted(
            name for name in _imported_modules(path) if name.split(".")[0] == "deliverables"
        )
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_a_lazy_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from deliverables.models import Deliverable\n")
    assert "deliverables.models" in _imported_modules(sample)
