"""Screenshots of the portfolio dashboard and a project page at 1280 and 390 px, in
English and Japanese, for docs/screenshots/. Skipped unless MLTEAM_SCREENSHOTS names
a folder to write them into (a PNG per page, width and language):

    MLTEAM_SCREENSHOTS=docs/screenshots/after \
        .venv/bin/python -m pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import goto_drawn, language_context, sign_in
from tests.practices.conftest import practices, work_in_every_status  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FOLDER = os.environ.get("MLTEAM_SCREENSHOTS", "")


@pytest.mark.skipif(not FOLDER, reason="set MLTEAM_SCREENSHOTS to a folder")
@pytest.mark.parametrize("language", ["en", "ja"])
def test_screenshots(live_server, browser, practices, language):  # noqa: F811
    work_in_every_status(practices)
    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    pages = {
        "dashboard": reverse("deliverables:portfolio_dashboard"),
        "project": reverse("roles:project_detail", args=[practices.project.pk]),
    }
    for width in (1280, 390):
        context = language_context(browser, live_server, language, width=width, height=900)
        page = context.new_page()
        try:
            sign_in(page, live_server.url, "manager")
            for name, path in pages.items():
                goto_drawn(page, live_server.url + path)
                page.wait_for_timeout(300)  # the charts' first draw
                page.screenshot(path=str(folder / f"{name}-{width}-{language}.png"), full_page=True)
        finally:
            context.close()
