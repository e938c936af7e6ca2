"""Imports point one way (README, Architecture): mlteam's helpers <- roles <-
deliverables <- deliverables.reviews, with mlteam's site modules (URLs, pages,
health, demo data, people across apps) on top of them all. A lower layer never
imports a higher one, not even inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# mlteam's modules that put the apps together: they may import any app.
SITE = {
    "mlteam/context_processors.py",
    "mlteam/demo.py",
    "mlteam/health.py",
    "mlteam/observability.py",  # metrics read the digests' and deliveries' ledgers
    "mlteam/selectors.py",
    "mlteam/services.py",
    "mlteam/signin.py",  # allauth's adapters: who must use two factors, remembered language
    "mlteam/urls.py",
    "mlteam/views.py",
    "mlteam/management",
    "mlteam/api/urls.py",  # registers every app's API resources
    "mlteam/notifications",  # a surface: it reads the apps' events (webhooks, chat)
    "mlteam/calendars",  # a surface: calendar feeds of the apps' due dates
    "mlteam/search",  # a surface: it reads what each app's querysets let the reader see
}

# (the layer's files, the packages it must not import)
LAYERS = {
    "mlteam's helpers": ("mlteam", {"roles", "deliverables"}),
    "roles": ("roles", {"deliverables"}),
    "deliverables": (
        "deliverables",
        {
            "deliverables.reviews",
            "deliverables.readiness",
            "deliverables.cards",
            "deliverables.artifacts",
        },
    ),
    # Nested apps sit side by side: none imports another.
    "readiness": (
        "deliverables/readiness",
        {"deliverables.reviews", "deliverables.cards", "deliverables.artifacts"},
    ),
    "cards": (
        "deliverables/cards",
        {"deliverables.reviews", "deliverables.readiness", "deliverables.artifacts"},
    ),
    "artifacts": (
        "deliverables/artifacts",
        {"deliverables.reviews", "deliverables.readiness", "deliverables.cards"},
    ),
}


def _imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module a file imports, at the top or inside a function (relative
    imports resolved against the file's package)."""
    package = package or ".".join(path.relative_to(ROOT).parent.parts)
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _files(top: str) -> list[Path]:
    files = []
    for path in sorted((ROOT / top).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts:
            continue  # historical models name whatever app they need
        if top == "mlteam" and (
            str(relative) in SITE or any(str(parent) in SITE for parent in relative.parents)
        ):
            continue
        if top == "deliverables" and relative.parts[1] in {
            "reviews",
            "readiness",
            "cards",
            "artifacts",
        }:
            continue  # the higher layers themselves
        files.append(path)
    return files


def _reaches(name: str, forbidden: set[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in forbidden)


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer):
    top, forbidden = LAYERS[layer]
    files = _files(top)
    assert len(files) > 3
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imported_modules(path) if _reaches(name, forbidden)
        )
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_lazy_and_relative_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from .reviews.models import Review\n    import roles.models\n")
    found = _imported_modules(sample, package="deliverables")
    assert "deliverables.reviews.models" in found and "roles.models" in found
