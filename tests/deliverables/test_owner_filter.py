"""The deliverables list's owner filter over a large directory (roles.forms.LazyPersonSelect):
the page carries the chosen person only, the rest come from deliverables:owner_options,
limited to the people the reader may see."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles import forms as role_forms
from roles.services import membership_add, project_create
from tests.factories import UserFactory, manager_user

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="(\d*)"( selected)?>')


@pytest.fixture
def team():
    manager = manager_user()
    project = project_create(name="Alpha", managers=[manager])
    members = [UserFactory(first_name=f"Member{n}") for n in range(4)]
    for member in members:
        membership_add(project=project, user=member)
    outsider = UserFactory(first_name="Outsider")
    project_create(name="Beta", managers=[manager_user()]).memberships.create(user=outsider)
    return manager, members, outsider


def _owner_select(html: str) -> str:
    return re.search(r'<select name="owner".*?</select>', html, re.S).group(0)


def _values(html: str) -> list[str]:
    return [value for value, _selected in OPTION.findall(html)]


def test_a_small_directory_is_drawn_whole(client, team):
    manager, members, outsider = team
    client.force_login(manager)
    select = _owner_select(client.get(reverse("deliverables:list")).content.decode())
    assert "data-options-url" not in select
    values = _values(select)
    assert {str(member.pk) for member in members} <= set(values)
    assert str(outsider.pk) not in values


def test_a_large_directory_leaves_the_list_to_the_options_address(client, team, monkeypatch):
    monkeypatch.setattr(role_forms, "INLINE_PEOPLE", 2)
    manager, members, outsider = team
    client.force_login(manager)
    chosen = members[2]
    response = client.get(reverse("deliverables:list"), {"owner": chosen.pk})
    select = _owner_select(response.content.decode())
    url = reverse("deliverables:owner_options")
    assert f'data-options-url="{url}"' in select
    # Anyone, and the chosen person, selected: the filter still reads what it filters by.
    assert OPTION.findall(select) == [("", ""), (str(chosen.pk), " selected")]

    options = client.get(url, {"owner": chosen.pk})
    assert options.status_code == 200
    assert options["Content-Type"].startswith("text/html")
    body = options.content.decode()
    values = _values(body)
    assert values[0] == ""
    assert {str(member.pk) for member in members} <= set(values)
    assert str(outsider.pk) not in values  # only the people the reader may see
    assert f'<option value="{chosen.pk}" selected>' in body


def test_without_a_choice_the_page_has_only_anyone(client, team, monkeypatch):
    monkeypatch.setattr(role_forms, "INLINE_PEOPLE", 2)
    client.force_login(team[0])
    select = _owner_select(client.get(reverse("deliverables:list")).content.decode())
    assert OPTION.findall(select) == [("", " selected")]


@pytest.mark.parametrize("owner", ["", "abc", "999999", "-1", "１２"])
def test_the_options_answer_any_owner_value(client, team, owner):
    client.force_login(team[0])
    response = client.get(reverse("deliverables:owner_options"), {"owner": owner})
    assert response.status_code == 200
    chosen = [value for value, selected in OPTION.findall(response.content.decode()) if selected]
    assert chosen in ([], [""])  # nobody chosen: at most "Anyone"


def test_a_person_the_reader_may_not_see_is_not_drawn_as_chosen(client, team, monkeypatch):
    monkeypatch.setattr(role_forms, "INLINE_PEOPLE", 2)
    manager, _members, outsider = team
    client.force_login(manager)
    response = client.get(reverse("deliverables:list"), {"owner": outsider.pk})
    select = _owner_select(response.content.decode())
    assert str(outsider.pk) not in _values(select)
    assert outsider.first_name not in select


def test_signed_out_readers_are_sent_to_sign_in(client):
    response = client.get(reverse("deliverables:owner_options"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_options_cost_the_same_queries_for_more_people(client, team):
    manager, _members, _outsider = team
    client.force_login(manager)
    url = reverse("deliverables:owner_options")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    project = manager.managed_projects.first()
    for n in range(20):
        membership_add(project=project, user=UserFactory(first_name=f"More{n}"))
    with CaptureQueriesContext(connection) as many:
        assert len(_values(client.get(url).content.decode())) > 20
    assert len(many) == len(few)
