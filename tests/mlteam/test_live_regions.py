"""Static warnings are not alerts: a screen reader would announce them on every
page load. role="alert" is for what appears after an action (form errors,
messages after a redirect)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from roles.services import project_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("view", ["roles:project_detail", "roles:project_team"])
def test_unfilled_roles_warning_is_a_status_not_an_alert(client, manager, view):
    project = project_create(name="Churn", managers=[manager], actor=manager)
    client.force_login(manager)
    html = client.get(reverse(view, args=[project.pk])).content.decode()
    assert "Unfilled required roles" in html
    assert 'role="alert"' not in html
    assert '<div class="alert alert-warning py-2" role="status">' in html


def test_coverage_page_has_no_alert_on_load(client, manager):
    project_create(name="Churn", managers=[manager], actor=manager)
    client.force_login(manager)
    html = client.get(reverse("roles:portfolio_coverage")).content.decode()
    assert 'role="alert"' not in html
