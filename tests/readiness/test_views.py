"""The rubric's pages: every URL x persona, nothing leaking, htmx saves, queries
that do not grow with data, the Japanese page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from deliverables.readiness.models import Mark, RubricMark
from deliverables.services import deliverable_create
from tests.factories import dated_work, deliverable_type, panel_of
from tests.readiness.conftest import mark_all

pytestmark = pytest.mark.django_db


def test_scores_do_not_leak_to_people_who_may_not_see_the_project(client, scored):
    mark_all(scored, Mark.AUTOMATED, per_section=1)
    client.force_login(scored.world.people["other_manager"])
    dashboard = client.get(reverse("deliverables:portfolio_dashboard")).content.decode()
    assert "Churn" not in dashboard and "0 of 1" not in dashboard
    for name in ("roles:project_detail", "roles:project_panels"):
        assert client.get(reverse(name, args=[scored.world.project.pk])).status_code == 404
    client.force_login(scored.world.people["manager"])
    dashboard = client.get(reverse("deliverables:portfolio_dashboard")).content.decode()
    assert "0 of 1" in dashboard  # below the 2.0 needed: not ready
    # The project page fetches its panels once drawn (htmx), or links to them.
    project = client.get(reverse("roles:project_detail", args=[scored.world.project.pk]))
    panels_url = reverse("roles:project_panels", args=[scored.world.project.pk])
    assert f'hx-get="{panels_url}"' in project.content.decode()
    panels = client.get(panels_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="readiness-heading"' in panels and "1.0" in panels
    assert "<html" not in panels  # the fragment alone
    page = client.get(panels_url).content.decode()  # without JavaScript: a page
    assert "<html" in page and 'id="readiness-heading"' in page


def test_htmx_save_draws_the_item_and_the_score(client, scored):
    item = scored.item()
    client.force_login(scored.world.people["member"])
    url = reverse("readiness:rubric_mark", args=[scored.deliverable.pk, item.pk])
    data = {f"item-{item.pk}-version": 0, f"item-{item.pk}-mark": "automated"}
    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "Give evidence" in refused.content.decode()
    assert not RubricMark.objects.exists()
    bad = client.post(
        url, {**data, f"item-{item.pk}-evidence_url": "not a url"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 200 and "Enter a valid URL" in bad.content.decode()
    saved = client.post(
        url,
        {**data, f"item-{item.pk}-evidence_url": "https://ci.example.com/7"},
        HTTP_HX_REQUEST="true",
    )
    body = saved.content.decode()
    assert 'id="rubric-score" class="rubric-score" hx-swap-oob="true"' in body and "Saved" in body
    assert RubricMark.objects.get().mark == Mark.AUTOMATED
    stale = client.post(
        url,
        {**data, f"item-{item.pk}-mark": "manual", f"item-{item.pk}-evidence_note": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert "Someone else marked this item" in stale.content.decode()
    assert RubricMark.objects.get().mark == Mark.AUTOMATED
    garbage = client.post(url, {f"item-{item.pk}-version": "x", f"item-{item.pk}-mark": "??"})
    assert garbage.status_code == 422


def test_other_items_are_404(client, scored):
    client.force_login(scored.world.people["member"])
    url = reverse("readiness:rubric_mark", args=[scored.deliverable.pk, 999999])
    assert client.post(url, {}).status_code == 404
    report = deliverable_create(
        project=scored.world.project,
        type=deliverable_type("analysis-report"),
        owner=scored.world.people["member"],
        actor=scored.world.people["manager"],
    )
    assert client.get(reverse("readiness:rubric", args=[report.pk])).status_code == 404


def _grow(scored, n):
    for _ in range(n):
        d = deliverable_create(
            project=scored.world.project,
            type=deliverable_type("deployed-model"),
            owner=scored.world.people["member"],
            actor=scored.world.people["manager"],
        )
        scored.deliverable = d
        mark_all(scored, Mark.MANUAL, per_section=3)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_queries_do_not_grow_with_data(client, scored, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    client.force_login(scored.world.people["manager"])
    first = scored.deliverable
    urls = [
        reverse("deliverables:detail", args=[first.pk]),
        reverse("readiness:rubric", args=[first.pk]),
        reverse("roles:project_detail", args=[scored.world.project.pk]),
        reverse("roles:project_panels", args=[scored.world.project.pk]),
        reverse("deliverables:portfolio_dashboard"),
    ]
    _grow(scored, 1)
    small = [_queries(client, url) for url in urls]
    _grow(scored, 4)
    scored.deliverable = first
    mark_all(scored, Mark.AUTOMATED, per_section=5)
    large = [_queries(client, url) for url in urls]
    assert small == large


def test_the_japanese_page_renders(client, scored):
    mark_all(scored, Mark.MANUAL, per_section=1)
    client.force_login(scored.world.people["manager"])
    with translation.override("ja"):
        response = client.get(
            reverse("deliverables:detail", args=[scored.deliverable.pk]), HTTP_ACCEPT_LANGUAGE="ja"
        )
        rubric = client.get(
            reverse("readiness:rubric", args=[scored.deliverable.pk]), HTTP_ACCEPT_LANGUAGE="ja"
        )
    assert response.status_code == 200 and rubric.status_code == 200
    assert 'lang="ja"' in response.content.decode()


def test_the_project_page_scores_the_work_due_first_and_says_how_much_there_is(client, scored):
    """The readiness table draws the first 20 scored deliverables by due date (work
    without a due date after them); the count under it is of all of them."""
    dated_work(scored.world, "deployed-model", "Model")
    client.force_login(scored.world.people["manager"])
    page = client.get(reverse("roles:project_panels", args=[scored.world.project.pk]))
    panel = panel_of(page.content.decode(), "readiness-heading")
    assert "Model 00" in panel and "Model 19" in panel and "Model 20" not in panel
    assert "The 20 due first of 22 scored deliverables." in panel
