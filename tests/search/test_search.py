"""The site search: finds every kind the reader may see, never one they may not,
in the same number of queries whatever the data (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.models import ChecklistItem, DeliverableComment
from deliverables.services import comment_add, deliverable_create, link_add
from mlteam.search import selectors
from roles.services import membership_add
from tests.factories import UserFactory, deliverable_type

pytestmark = pytest.mark.django_db

# One word per kind, each only on the Fraud project (other_manager's), which
# `member`, `manager` and `outsider` may not see.
HIDDEN = {
    "project": "quokkaproblem",
    "person": "Zebulon",
    "deliverable": "narwhaltitle",
    "link": "pangolinlink",
    "type": None,
    "answer": "axolotlanswer",
    "comment": "capybaracomment",
}


def _hide_everything_on_fraud(world) -> None:
    fraud, boss = world.other_project, world.people["other_manager"]
    fraud.business_problem = f"Stop card fraud ({HIDDEN['project']})."
    fraud.save()
    secret = UserFactory(username="zeb", first_name=HIDDEN["person"], last_name="Secret")
    membership_add(project=fraud, user=secret, actor=boss)
    hidden = deliverable_create(
        project=fraud,
        type=deliverable_type("deployed-model"),
        title=f"Model {HIDDEN['deliverable']}",
        actor=boss,
    )
    link_add(
        deliverable=hidden,
        actor=boss,
        kind="document",
        url="https://docs.example.com/fraud",
        label=f"Spec {HIDDEN['link']}",
    )
    comment_add(deliverable=hidden, actor=boss, body=f"Looks {HIDDEN['comment']} to me.")
    handbook = deliverable_create(
        project=fraud, type=deliverable_type("process-documentation"), actor=boss
    )
    item = ChecklistItem.objects.filter(deliverable=handbook, answer_kind="text").first()
    item.answer = f"We use {HIDDEN['answer']} for training."
    item.save()


def _kinds(user, text) -> list[str]:
    return [result.kind for result in selectors.search(user=user, text=text).object_list]


@pytest.fixture
def fraud(work):
    _hide_everything_on_fraud(work.world)
    return work


def test_finds_a_deliverable_by_a_word_of_its_link_title(fraud):
    boss = fraud.world.people["other_manager"]
    results = selectors.search(user=boss, text=HIDDEN["link"]).object_list
    assert [r.kind for r in results] == ["deliverable"]
    assert HIDDEN["deliverable"] in results[0].title


def test_finds_a_deliverable_by_its_link_address(work):
    link_add(
        deliverable=work.deliverable,
        actor=work.world.people["member"],
        kind="repository",
        url="https://git.example.com/team/churnfeatures",
    )
    assert _kinds(work.world.people["member"], "churnfeatures") == ["deliverable"]


def test_finds_a_deliverable_by_its_type_name(work):
    titles = [
        r.title
        for r in selectors.search(user=work.world.people["member"], text="Analysis").object_list
    ]
    assert any("Churn drivers report" in title for title in titles)


@pytest.mark.parametrize(
    "kind, word", [(kind, word) for kind, word in HIDDEN.items() if word is not None]
)
def test_owner_of_the_project_finds_each_kind(fraud, kind, word):
    boss = fraud.world.people["other_manager"]
    expected = {"link": "deliverable"}.get(kind, kind)
    assert expected in _kinds(boss, word)
    assert expected in _kinds(fraud.world.people["admin"], word)


@pytest.mark.parametrize("persona", ["outsider", "member", "colleague", "manager"])
@pytest.mark.parametrize("word", [word for word in HIDDEN.values() if word])
def test_never_returns_what_the_reader_may_not_see(fraud, persona, word):
    assert _kinds(fraud.world.people[persona], word) == []


@pytest.mark.parametrize("persona", ["outsider", "member", "manager"])
def test_the_page_shows_nothing_hidden(client, fraud, persona):
    client.force_login(fraud.world.people[persona])
    for word in filter(None, HIDDEN.values()):
        response = client.get(reverse("search:results"), {"q": word})
        assert response.status_code == 200
        assert response.context["page_obj"].paginator.count == 0
        assert "Fraud" not in response.content.decode().split("<main", 1)[-1]


def test_comments_and_answers_follow_their_deliverable(fraud):
    """The kinds' own `visible_to` follow the deliverables' rule."""
    outsider, boss = fraud.world.people["outsider"], fraud.world.people["other_manager"]
    assert not DeliverableComment.objects.visible_to(outsider).exists()
    assert not ChecklistItem.objects.visible_to(outsider).exists()
    assert DeliverableComment.objects.visible_to(boss).exists()


def test_results_say_their_kind_and_link_to_it(client, fraud):
    client.force_login(fraud.world.people["other_manager"])
    response = client.get(reverse("search:results"), {"q": HIDDEN["comment"]})
    page = response.content.decode()
    assert "Comment" in page and "#comments" in page


def test_a_result_quotes_typed_markdown_as_it_reads(client, work):
    deliverable_create(
        project=work.world.project,
        type=deliverable_type("analysis-report"),
        title="Fairness audit",
        description="Check the model for **bias** across [groups](https://x.example/g).",
        actor=work.world.people["manager"],
    )
    client.force_login(work.world.people["member"])
    page = client.get(reverse("search:results"), {"q": "fairness"}).content.decode()
    assert "Check the model for bias across groups." in page
    assert "**" not in page and "](https" not in page


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("search:results"), {"q": "x"})
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_bad_input_is_no_error(client, work):
    client.force_login(work.world.people["member"])
    for q in ["", " ", "'", '"', "a & b | !c", "(", "x" * 500, "-", "ｄａｔａ", "チャーン"]:
        response = client.get(reverse("search:results"), {"q": q, "page": "abc"})
        assert response.status_code == 200, q


def test_japanese_words_are_found(work):
    deliverable_create(
        project=work.world.project,
        type=deliverable_type("analysis-report"),
        title="チャーン分析レポート",
        actor=work.world.people["manager"],
    )
    assert _kinds(work.world.people["member"], "チャーン") == ["deliverable"]


def test_htmx_gets_the_results_alone(client, work):
    client.force_login(work.world.people["member"])
    response = client.get(reverse("search:results"), {"q": "Churn"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<nav" not in response.content.decode().split("search-results", 1)[0]
    assert "<html" not in response.content.decode()


def test_navigation_has_the_search_box(client, work):
    client.force_login(work.world.people["member"])
    page = client.get(reverse("home")).content.decode()
    assert 'id="site-search"' in page and reverse("search:results") in page


def _grow(world, size: int, start: int = 0) -> None:
    """`size` more of every kind, all matching "grow", all visible to `manager`."""
    manager, project = world.people["manager"], world.project
    for n in range(start, start + size):
        person = UserFactory(username=f"grow{n}", first_name="Grow")
        membership_add(project=project, user=person, actor=manager)
        deliverable = deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"grow report {n}",
            description="grow",
            actor=manager,
        )
        link_add(
            deliverable=deliverable,
            actor=manager,
            kind="document",
            url=f"https://x.example/{n}",
            label="grow",
        )
        comment_add(deliverable=deliverable, actor=manager, body="grow faster")
    for _ in range(2):
        handbook = deliverable_create(
            project=project, type=deliverable_type("process-documentation"), actor=manager
        )
        ChecklistItem.objects.filter(deliverable=handbook, answer_kind="text").update(answer="grow")


def _queries(client, user) -> tuple[int, int]:
    """The page's queries, and how many kinds its results are of."""
    client.force_login(user)
    client.get(reverse("search:results"), {"q": "grow"})  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("search:results"), {"q": "grow"})
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert page.paginator.count > 0
    return len(queries), len({result.kind for result in page.object_list})


def test_query_count_does_not_grow_with_the_data(client, work):
    """Session, user and their permissions, the type catalogue (1), the ranked rows
    that are also the count (1), and one query per kind present on the page (at most 5):
    the same at 2 and at 12 of each (which kinds make the first page depends on the
    ranks, so the kinds are taken out of the comparison)."""
    manager = work.world.people["manager"]
    _grow(work.world, 2)
    small, small_kinds = _queries(client, manager)
    _grow(work.world, 10, start=2)
    large, large_kinds = _queries(client, manager)
    assert small - small_kinds == large - large_kinds
    assert large_kinds <= 5


def test_part_of_a_name_finds_the_person_and_the_project(work):
    """Names are matched by "contains" on every database."""
    member = work.world.people["member"]
    member.first_name, member.last_name = "Aiko", "Kobayashi"
    member.save()
    assert "person" in _kinds(work.world.people["manager"], "Kobaya")
    assert "project" in _kinds(work.world.people["manager"], "Chur")


def test_a_common_word_is_counted_up_to_the_limit(client, work, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 2)
    _grow(work.world, 3)
    client.force_login(work.world.people["manager"])
    response = client.get(reverse("search:results"), {"q": "grow"})
    assert response.context["page_obj"].paginator.capped
    assert "More than 2 results" in response.content.decode()


def test_one_kind_beyond_the_limit_is_counted_as_more(client, work, monkeypatch):
    """Each kind ranks one row more than the limit, so a word found in one kind
    alone is still known to have more results than are shown."""
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 2)
    manager = work.world.people["manager"]
    for n in range(3):
        deliverable_create(
            project=work.world.project,
            type=deliverable_type("analysis-report"),
            title=f"okapi report {n}",
            actor=manager,
        )
    client.force_login(manager)
    page = client.get(reverse("search:results"), {"q": "okapi"}).context["page_obj"]
    assert page.paginator.capped
    assert {result.kind for result in page.object_list} == {"deliverable"}


def test_a_deleted_comment_is_not_found_even_by_its_author(fraud):
    boss = fraud.world.people["other_manager"]
    assert "comment" in _kinds(boss, HIDDEN["comment"])
    from deliverables.services import comment_delete

    comment = DeliverableComment.objects.get(body__contains=HIDDEN["comment"])
    comment_delete(comment=comment, actor=boss, version=comment.version)
    assert "comment" not in _kinds(boss, HIDDEN["comment"])
    assert "comment" not in _kinds(fraud.world.people["admin"], HIDDEN["comment"])
