"""Chat channels are a surface on top of everything: they import downwards (the
notifications machinery, deliverables, roles, mlteam's helpers), and nothing but the
site's URLs (and settings, by name) imports them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from tests.test_layering import _imported_modules

ROOT = Path(settings.BASE_DIR)
PACKAGE = "mlteam.notifications.channels"
ALLOWED = {"mlteam/urls.py"}


def _python_files():
    for top in ("mlteam", "roles", "deliverables"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or str(relative).startswith(
                "mlteam/notifications/channels"
            ):
                continue
            yield path


def test_nothing_imports_the_chat_channels_but_the_urls():
    offenders = {
        str(path.relative_to(ROOT))
        for path in _python_files()
        if any(
            name == PACKAGE or name.startswith(f"{PACKAGE}.") for name in _imported_modules(path)
        )
    }
    assert offenders - ALLOWED == set()


def test_the_chat_channels_import_only_lower_rooms():
    higher = ("deliverables.reviews", "mlteam.api", "mlteam.calendars", "mlteam.search")
    for path in sorted((ROOT / "mlteam/notifications/channels").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in _imported_modules(path):
            assert not name.startswith(higher), (path.name, name)
