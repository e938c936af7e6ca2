"""Admins edit rubrics in the Django admin (a rubric with its sections inline, a
section with its items inline), every change through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deliverables.readiness.models import Mark, Rubric, RubricItem, RubricSection
from tests.html_forms import form_data
from tests.readiness.conftest import mark_all

pytestmark = pytest.mark.django_db


def _form(client, url, form_id):
    response = client.get(url)
    assert response.status_code == 200
    return form_data(response.content.decode(), form_id=form_id)


def test_admin_changes_the_required_score_and_adds_a_section(client, scored):
    client.force_login(scored.world.people["admin"])
    rubric = scored.rubric
    url = reverse("admin:readiness_rubric_change", args=[rubric.pk])
    data = _form(client, url, "rubric_form")
    data["required_score"] = ["3"]
    prefix = "sections"
    total = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data[f"{prefix}-{total - 1}-name"] = ["Fairness"]
    data[f"{prefix}-{total - 1}-position"] = ["9"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rubric.refresh_from_db()
    assert rubric.required_score == Decimal("3") and rubric.version > 1
    assert rubric.sections.filter(name="Fairness").exists()


def test_admin_adds_an_item_to_a_section(client, scored):
    client.force_login(scored.world.people["admin"])
    section = scored.rubric.sections.get(name="Monitoring")
    version = scored.rubric.version
    url = reverse("admin:readiness_rubricsection_change", args=[section.pk])
    data = _form(client, url, "rubricsection_form")
    total = int(data["items-TOTAL_FORMS"][0])
    data[f"items-{total - 1}-text"] = ["Alerts are tested by firing them on purpose"]
    data[f"items-{total - 1}-position"] = ["20"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert section.items.filter(text__startswith="Alerts are tested").exists()
    scored.rubric.refresh_from_db()
    assert scored.rubric.version > version


def test_an_item_someone_marked_is_not_deleted(client, scored):
    mark_all(scored, Mark.MANUAL, per_section=1)
    client.force_login(scored.world.people["admin"])
    section = scored.rubric.sections.order_by("position").first()
    marked = section.items.order_by("position").first()
    url = reverse("admin:readiness_rubricsection_change", args=[section.pk])
    data = _form(client, url, "rubricsection_form")
    for n in range(int(data["items-TOTAL_FORMS"][0])):
        if data.get(f"items-{n}-id") == [str(marked.pk)]:
            data[f"items-{n}-DELETE"] = ["on"]
    response = client.post(url, data)
    assert response.status_code == 200  # drawn again with the reason
    assert RubricItem.objects.filter(pk=marked.pk).exists()


def test_a_stale_rubric_form_is_refused(client, scored):
    client.force_login(scored.world.people["admin"])
    rubric = scored.rubric
    url = reverse("admin:readiness_rubric_change", args=[rubric.pk])
    data = _form(client, url, "rubric_form")
    Rubric.objects.filter(pk=rubric.pk).update(version=rubric.version + 1)
    data["required_score"] = ["4"]
    response = client.post(url, data)
    assert response.status_code == 200
    rubric.refresh_from_db()
    assert rubric.required_score == Decimal("2")


def test_one_rubric_per_type(client, scored):
    client.force_login(scored.world.people["admin"])
    url = reverse("admin:readiness_rubric_add")
    data = _form(client, url, "rubric_form")
    data.update(
        {
            "deliverable_type": [str(scored.rubric.deliverable_type_id)],
            "name": ["Second"],
            "required_score": ["1"],
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert Rubric.objects.filter(name="Second").count() == 0
    assert RubricSection.objects.filter(rubric__name="Second").count() == 0
