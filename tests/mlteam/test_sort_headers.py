"""Sortable column headings link to the other order and say which one is shown."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import DeliverableFactory, ProjectFactory, admin_user

pytestmark = pytest.mark.django_db


def test_current_sort_is_marked_and_the_link_reverses_it(client):
    ProjectFactory(name="xylophone")
    client.force_login(admin_user(username="ada"))
    body = client.get(reverse("roles:project_list"), {"sort": "name", "q": "x", "page": "2"})
    text = body.content.decode()
    assert "(sorted ascending)" in text
    # The link keeps the search, drops the page and reverses the order.
    assert '?sort=-name&amp;q=x" aria-current="true"' in text
    text = client.get(reverse("roles:project_list"), {"sort": "-name"}).content.decode()
    assert "(sorted descending)" in text


def test_deliverables_default_sort_shows_on_the_due_column(client):
    DeliverableFactory()
    client.force_login(admin_user(username="ada"))
    text = client.get(reverse("deliverables:list")).content.decode()
    assert '?sort=-due" aria-current="true"' in text and "(sorted ascending)" in text
