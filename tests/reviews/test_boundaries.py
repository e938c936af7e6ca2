"""deliverables never imports its nested reviews app (the import direction is
mlteam <- roles <- deliverables <- deliverables.reviews); reviews plug into the
digests through the registry instead."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from deliverables import reminders
from deliverables.reviews.reminders import ReviewDigestSection


def test_deliverables_imports_nothing_of_reviews():
    root = Path(settings.BASE_DIR) / "deliverables"
    offenders = []
    for path in root.rglob("*.py"):
        if "reviews" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(name == "reviews" or "reviews" in name.split(".") for name in names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def test_the_reviews_app_registers_its_digest_section():
    assert [type(section) for section in reminders.digest_sections] == [ReviewDigestSection]
