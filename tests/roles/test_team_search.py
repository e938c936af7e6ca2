"""The team page's "Add a person": a search among the people who may join (active,
not on the team), its matches drawn with the page (no JavaScript) or swapped in
by htmx, each with a button that adds them through `team_add`."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.forms import AddMemberForm
from roles.models import Membership
from roles.selectors import (
    TEAM_CANDIDATES_SHOWN,
    people_with_allocation,
    team_candidate_search,
    team_candidates,
)
from roles.services import membership_add
from tests.factories import UserFactory
from tests.roles.conftest import snapshot

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager_client(client, world):
    client.force_login(world.people["manager"])
    return client


def _person(username, first="", last="", **kwargs):
    return UserFactory(username=username, first_name=first, last_name=last, **kwargs)


def _team_url(world, **params):
    url = reverse("roles:project_team", args=[world.project.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _candidates_url(world):
    return reverse("roles:team_candidates", args=[world.project.pk])


def _add_buttons(html: str) -> list[tuple[str, str]]:
    """(value, accessible name) of every "Add" button on the page."""
    return re.findall(
        r'<button [^>]*type="submit" name="user" value="(\d+)" aria-label="([^"]*)">Add</button>',
        html,
    )


# --- who may be added: one rule ---------------------------------------------------------


def test_candidates_are_the_active_people_off_the_team_by_name(world):
    zed = _person("zed", "Aiko", "Zeta")
    abe = _person("abe", "Aiko", "Abe")
    _person("gone", "Aiko", "Gone", is_active=False)
    found = list(team_candidates(project=world.project, query="aiko"))
    assert found == [abe, zed]
    everyone = set(team_candidates(project=world.project))
    assert world.people["member"] not in everyone  # on the team
    assert world.people["newcomer"] in everyone and world.people["manager"] in everyone


@pytest.mark.parametrize(
    "query", ["QXUSER", "qxfirst", "QxLast", "qxmail.example", "xu"], ids=str.lower
)
def test_the_search_matches_username_names_and_email_ignoring_case(world, query):
    person = _person("qxuser", "Qxfirst", "Qxlast", email="someone@qxmail.example")
    _person("unrelated", "Nora", "Berg", email="nora@example.com")
    assert list(team_candidates(project=world.project, query=query)) == [person]


def test_the_people_page_searches_with_the_same_condition(world):
    """One people search (`people_matching`): the people page finds by email too."""
    person = _person("plain", "Plain", "Person", email="hidden@qxmail.example")
    viewer = world.people["admin"]
    assert list(people_with_allocation(user=viewer, query="QXMAIL")) == [person]


def test_the_add_form_validates_against_the_candidates(world):
    newcomer, member = world.people["newcomer"], world.people["member"]
    gone = _person("gone", "Gone", "Away", is_active=False)
    version = world.project.version
    form = AddMemberForm({"version": version, "user": newcomer.pk}, project=world.project)
    assert form.is_valid() and form.cleaned_data["user"] == newcomer
    for refused in (member, gone):
        form = AddMemberForm({"version": version, "user": refused.pk}, project=world.project)
        assert not form.is_valid()
        assert form.errors["user"] == ["Choose someone who is not on the team yet."]


def test_a_search_shows_ten_by_name_and_says_when_there_are_more(world):
    people = [
        _person(f"qz{n:02}", "Qz", f"Person {n:02}") for n in range(TEAM_CANDIDATES_SHOWN + 1)
    ]
    search = team_candidate_search(project=world.project, query="qz")
    assert search.people == people[:TEAM_CANDIDATES_SHOWN] and search.more
    search = team_candidate_search(project=world.project, query="qz1")
    assert search.people == [people[10]] and not search.more
    with CaptureQueriesContext(connection) as captured:
        search = team_candidate_search(project=world.project, query="")
    assert search.people == [] and len(captured) == 0


# --- the page without JavaScript --------------------------------------------------------


def test_the_team_page_has_a_search_and_no_list_of_everyone(manager_client, world):
    html = manager_client.get(_team_url(world)).content.decode()
    assert '<select name="user"' not in html and world.people["newcomer"].username not in html
    field = re.search(r'<input type="search" name="find"[^>]*>', html)[0]
    assert 'id="id_find"' in field and 'placeholder="Name, username or email"' in field
    assert '<label for="id_find" class="form-label">Find a person</label>' in html
    assert "Type part of a name, username or email" in html
    assert _add_buttons(html) == []


def test_the_team_page_draws_the_matches_of_its_find_parameter(manager_client, world):
    aiko = _person("aiko", "Aiko", "Tanaka")
    _person("aikora", "Aikora", "Gone", is_active=False)
    html = manager_client.get(_team_url(world, find="AIKO")).content.decode()
    assert _add_buttons(html) == [(str(aiko.pk), "Add Aiko Tanaka (aiko) to the team")]
    assert ">Aiko Tanaka (aiko)</span>" in html
    assert "1 person matches." in html
    assert 'value="AIKO"' in html  # the search box keeps what was typed
    assert '<input type="hidden" name="find" value="AIKO">' in html  # sent with "Add"


def test_a_search_that_finds_nobody_suggests_an_invitation(manager_client, world):
    html = manager_client.get(_team_url(world, find="member")).content.decode()
    assert _add_buttons(html) == []  # member is on the team already
    assert "Nobody matches “member” among the people not on the team." in html
    assert '<a href="#invite-by-email">Not in MLTeam yet? Invite them by email.</a>' in html
    assert 'id="invite-by-email"' in html


def test_more_matches_than_shown_ask_to_keep_typing(manager_client, world):
    for n in range(TEAM_CANDIDATES_SHOWN + 2):
        _person(f"qz{n:02}", "Qz", f"Person {n:02}")
    html = manager_client.get(_team_url(world, find="qz")).content.decode()
    assert len(_add_buttons(html)) == TEAM_CANDIDATES_SHOWN
    assert "More people match than the 10 shown. Keep typing to narrow down." in html


@pytest.mark.parametrize("find", ["a\x00b", "x" * 1000])
def test_a_search_the_database_cannot_take_is_no_search(manager_client, world, find):
    for url in (_team_url(world), _candidates_url(world)):
        response = manager_client.get(url, {"find": find})
        assert response.status_code == 200
        assert "Type part of a name, username or email" in response.content.decode()


def test_adding_from_the_search_comes_back_to_the_same_search(manager_client, world):
    aiko, aina = _person("aiko", "Aiko", "Qzsato"), _person("aina", "Aina", "Qzsato")
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": aiko.pk, "find": "qzsato"},
    )
    assert response.status_code == 302 and response["Location"] == _team_url(world, find="qzsato")
    assert Membership.objects.filter(project=world.project, user=aiko).exists()
    html = manager_client.get(response["Location"]).content.decode()
    assert "Aiko Qzsato joined the team." in html
    assert _add_buttons(html) == [(str(aina.pk), "Add Aina Qzsato (aina) to the team")]


# --- with htmx --------------------------------------------------------------------------


def test_the_candidates_view_answers_htmx_with_the_matches_and_the_address(manager_client, world):
    aiko = _person("aiko", "Aiko", "Tanaka")
    response = manager_client.get(_candidates_url(world), {"find": "tana"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="team-panel"' not in html
    assert _add_buttons(html) == [(str(aiko.pk), "Add Aiko Tanaka (aiko) to the team")]
    oob = re.search(
        r'<span id="candidates-status" hx-swap-oob="innerHTML">(.*?)</span>', html, re.S
    )
    assert oob[1].strip() == "1 person matches."
    assert response["HX-Replace-Url"] == _team_url(world, find="tana")
    cleared = manager_client.get(_candidates_url(world), {"find": ""}, **HTMX)
    assert cleared["HX-Replace-Url"] == _team_url(world)
    assert _add_buttons(cleared.content.decode()) == []


def test_adding_with_htmx_keeps_the_search_without_the_person_added(manager_client, world):
    aiko, aina = _person("aiko", "Aiko", "Qzsato"), _person("aina", "Aina", "Qzsato")
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": aina.pk, "find": "qzsato"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section aria-labelledby="matrix-heading"')
    assert "Aina Qzsato joined the team." in html
    assert _add_buttons(html) == [(str(aiko.pk), "Add Aiko Qzsato (aiko) to the team")]


def _card(html: str) -> str:
    start = html.index('id="add-person"')
    return html[start : html.index('id="invite-by-email"', start)]


@pytest.mark.parametrize("htmx", [False, True])
def test_someone_added_meanwhile_is_an_error_in_the_card(manager_client, world, htmx):
    newcomer = world.people["newcomer"]
    drawn = world.project.version
    membership_add(project=world.project, user=newcomer, actor=world.people["admin"])
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": drawn, "user": newcomer.pk, "find": "newcomer"},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == (200 if htmx else 422)
    card = _card(response.content.decode())
    assert '<div class="alert alert-danger py-1 small" role="alert">' in card
    assert "Choose someone who is not on the team yet." in card
    assert "Nobody matches “newcomer” among the people not on the team." in card
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [False, True])
def test_adding_the_only_match_leaves_an_empty_search(manager_client, world, htmx):
    aiko = _person("aiko", "Aiko", "Tanaka")
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": world.project.version, "user": aiko.pk, "find": "aiko"},
        follow=not htmx,
        **(HTMX if htmx else {}),
    )
    assert response.status_code == 200
    card = _card(response.content.decode())
    assert "Nobody matches" not in card
    assert 'value="aiko"' not in card  # the box is empty, ready for the next search


@pytest.mark.parametrize("htmx", [False, True])
def test_a_stale_add_is_refused_in_the_card(manager_client, world, htmx):
    aiko = _person("aiko", "Aiko", "Tanaka")
    drawn = world.project.version
    membership_add(
        project=world.project, user=world.people["newcomer"], actor=world.people["admin"]
    )
    before = snapshot()
    response = manager_client.post(
        reverse("roles:team_add", args=[world.project.pk]),
        {"version": drawn, "user": aiko.pk, "find": "aiko"},
        **(HTMX if htmx else {}),
    )
    assert response.status_code == (200 if htmx else 422)
    card = _card(response.content.decode())
    assert "Someone else changed this project" in card
    world.project.refresh_from_db()
    # Offered again over the current team: the retry carries the current version.
    assert f'<input type="hidden" name="version" value="{world.project.version}"' in card
    assert _add_buttons(card) == [(str(aiko.pk), "Add Aiko Tanaka (aiko) to the team")]
    assert snapshot() == before


def test_the_candidates_view_refuses_who_may_not_manage_the_team(client, world):
    """(All personas: tests/roles/test_permission_matrix.py.) No name leaks out."""
    _person("aiko", "Aiko", "Tanaka")
    for persona, status in [("member", 403), ("other_manager", 404), ("outsider", 404)]:
        client.force_login(world.people[persona])
        response = client.get(_candidates_url(world), {"find": "aiko"}, **HTMX)
        assert response.status_code == status
        assert b"Tanaka" not in response.content
    client.logout()
    response = client.get(_candidates_url(world), {"find": "aiko"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- queries ----------------------------------------------------------------------------


def _queries(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["team", "candidates"])
def test_a_search_costs_the_same_queries_for_5_or_50_people(manager_client, world, page):
    # Candidates view: session, user, permissions, the project (without its team:
    # the search reads who is on it), the matches (one query, 11 rows at most).
    # The team page: its own queries (tests/roles/test_query_counts.py) plus the
    # matches.
    url = (_team_url(world) if page == "team" else _candidates_url(world)) + "?find=qz"
    for n in range(5):
        _person(f"qz{n:03}", "Qz", f"Person {n:03}")
    small = _queries(manager_client, url)
    for n in range(5, 50):
        _person(f"qz{n:03}", "Qz", f"Person {n:03}")
    assert _queries(manager_client, url) == small
    assert _queries(manager_client, url, **HTMX) == small


def test_the_team_page_queries_the_people_only_for_a_search(manager_client, world):
    UserFactory.create_batch(5)
    without = _queries(manager_client, _team_url(world))
    UserFactory.create_batch(45)
    assert _queries(manager_client, _team_url(world)) == without
    assert _queries(manager_client, _team_url(world, find="qz")) == without + 1
