"""The API's resources about deliverables: reading (the web list's filters, keyset
pages, one deliverable, its checklist, links, comments and history, my work) and
writing through the services, with the web's rules, versions and errors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deliverables import selectors
from deliverables.models import (
    ChecklistItem,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    EventKind,
)
from deliverables.selectors import SORTS
from deliverables.services import comment_add, deliverable_create, link_add
from roles.models import Project
from tests.factories import MembershipFactory, UserFactory, deliverable_type

from .conftest import PROBLEM, client_as, fingerprint

pytestmark = pytest.mark.django_db

LIST = "/api/v1/deliverables/"


def _url(deliverable, tail: str = "") -> str:
    return f"{LIST}{deliverable.pk}/{tail}"


@pytest.fixture
def work(personas):
    """A deliverable of `project` owned by `member` (an analysis report: tick, text
    and link items), with a link and a comment; one of the other project."""
    project = personas["project"]
    mine = deliverable_create(
        project=project,
        type=deliverable_type("analysis-report"),
        title="Churn drivers",
        owner=personas["member"],
        due_date=timezone.localdate() - timedelta(days=2),
        actor=personas["manager"],
    )
    link_add(deliverable=mine, actor=personas["member"], kind="document", url="https://d.example/1")
    comment_add(deliverable=mine, actor=personas["member"], body="First draft is up.")
    other = deliverable_create(
        project=personas["other_project"],
        type=deliverable_type("data-pipeline"),
        actor=personas["other_manager"],
    )
    return {**personas, "deliverable": mine, "other": other}


def _item(deliverable, kind: str) -> ChecklistItem:
    return deliverable.checklist_items.filter(answer_kind=kind).order_by("pk").first()


def _walk(client, url: str) -> list[int]:
    """Every id of a list, page after page (following `next`)."""
    ids = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


def _fields(body: dict) -> set:
    return {error["field"] for error in body.get("errors", [])}


# --- reading ---------------------------------------------------------------------------


def test_list_shows_the_visible_deliverables_with_their_progress(work):
    client = client_as(work["member"], "token")
    body = client.get(LIST).json()
    assert [row["id"] for row in body["results"]] == [work["deliverable"].pk]
    row = body["results"][0]
    total = work["deliverable"].checklist_items.count()
    assert row["checklist"] == {
        "done": 0,
        "total": total,
        "required_open": row["checklist"]["required_open"],
    }
    assert row["checklist"]["required_open"] > 0
    assert row["overdue"] is True and row["status"] == "not_started"
    assert row["owner"]["username"] == "api-member" and row["project"]["name"] == "API project"
    assert body["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("project=abc", "project"),
        ("status=finished", "status"),
        ("due_within=-1", "due_within"),
        ("due_within=99999999999999999999", "due_within"),
        ("sort=colour", "sort"),
        ("type=99999999999999999999", "type"),
        ("owner=0", "owner"),
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WzEsMl0", "cursor"),  # [1, 2]: not as many keys as the sort has
        ("q=" + "x" * 201, "q"),
    ],
)
def test_invalid_filters_are_400_with_the_field(work, query, field):
    body = _problem(client_as(work["member"], "token").get(f"{LIST}?{query}"), 400)
    assert body["code"] == "invalid" and field in _fields(body)


@pytest.mark.parametrize(
    ("cursor", "status"),
    [
        ("W251bGwsICJ4Il0", 400),  # [null, "x"]: an id that is no number
        ("WyIyMDI2LTEzLTAxIiwgMV0", 400),  # ["2026-13-01", 1]: no such day
        ("W3siYSI6IDF9LCAxXQ", 400),  # [{"a": 1}, 1]
        (
            "W251bGwsIDEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd",
            200,
        ),  # [null, 10**30]: past the end
        ("WyIyMDI2LTAxLTAxIiwgLTVd", 200),  # ["2026-01-01", -5]: before the start
        ("éé", 400),
    ],
)
def test_a_forged_cursor_is_a_400_or_a_page_never_a_500(work, cursor, status):
    response = client_as(work["member"], "token").get(f"{LIST}?cursor={cursor}")
    assert response.status_code == status, response.content


def test_a_project_the_caller_cannot_see_is_an_invalid_filter(work):
    client = client_as(work["outsider"], "token")
    body = _problem(client.get(f"{LIST}?project={work['project'].pk}"), 400)
    assert _fields(body) == {"project"}


def test_filters_narrow_the_list(work):
    client = client_as(work["admin"], "token")
    mine, other = work["deliverable"], work["other"]
    assert set(_walk(client, LIST)) == {mine.pk, other.pk}
    assert _walk(client, f"{LIST}?project={mine.project_id}") == [mine.pk]
    assert _walk(client, f"{LIST}?overdue=true") == [mine.pk]
    assert _walk(client, f"{LIST}?owner={work['member'].pk}") == [mine.pk]
    assert _walk(client, f"{LIST}?q=churn") == [mine.pk]
    assert _walk(client, f"{LIST}?status=done") == []
    assert set(_walk(client, f"{LIST}?status=open")) == {mine.pk, other.pk}


@pytest.fixture
def many(personas):
    """Deliverables that tie on every sort but the id: equal and missing due dates,
    titles, owners (some nobody), statuses, all updated in the same second."""
    project, member, manager = personas["project"], personas["member"], personas["manager"]
    today = date(2026, 11, 2)
    types = [deliverable_type(slug) for slug in ("analysis-report", "data-pipeline")]
    owners = [member, manager, None]
    statuses = [
        DeliverableStatus.NOT_STARTED,
        DeliverableStatus.BLOCKED,
        DeliverableStatus.IN_PROGRESS,
    ]
    for n in range(17):
        Deliverable.objects.create(
            project=project,
            type=types[n % 2],
            title=["", "Same title"][n % 2],
            owner=owners[n % 3],
            due_date=None if n % 4 == 0 else today + timedelta(days=n % 3),
            status=statuses[n % 3],
            blocked_reason="held" if statuses[n % 3] == DeliverableStatus.BLOCKED else "",
        )
    Deliverable.objects.update(updated_at=timezone.now())
    return personas


@pytest.mark.parametrize("sort", list(SORTS))
def test_cursor_walks_every_row_exactly_once_in_order(many, sort):
    client = client_as(many["manager"], "token")
    whole = client.get(f"{LIST}?sort={sort}&page_size=200").json()["results"]
    assert len(whole) == 17
    walked = _walk(client, f"{LIST}?sort={sort}&page_size=3")
    assert walked == [row["id"] for row in whole]
    assert len(set(walked)) == 17


def test_my_work_pages_walk_every_row_once(many):
    client = client_as(many["member"], "token")
    whole = [row["id"] for row in client.get("/api/v1/me/work/?page_size=200").json()["results"]]
    mine = Deliverable.objects.filter(owner=many["member"]).open()
    assert sorted(whole) == sorted(mine.values_list("pk", flat=True))
    assert _walk(client, "/api/v1/me/work/?page_size=2") == whole


def test_detail_has_the_version_as_etag_and_the_checklist_progress(work):
    deliverable = work["deliverable"]
    tick = _item(deliverable, "tick")
    tick.checked = True
    tick.save()
    response = client_as(work["member"], "session").get(_url(deliverable))
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == f'"{deliverable.version}"' and body["version"] == deliverable.version
    assert body["checklist"]["done"] == 1
    assert body["checklist"]["total"] == deliverable.checklist_items.count()
    # The owner's moves, in the owner's words; no manager-only ones.
    assert {a["status"] for a in body["actions"]} == {"in_progress", "blocked"}
    assert body["allowed"] == {"update": True, "manage": False, "answer_checklist": True}


def test_checklist_links_comments_and_history(work):
    deliverable = work["deliverable"]
    client = client_as(work["member"], "token")
    checklist = client.get(_url(deliverable, "checklist/")).json()
    assert checklist["version"] == deliverable.version and checklist["locked"] is False
    assert {item["answer_kind"] for item in checklist["items"]} == {"tick", "text", "link"}
    links = client.get(_url(deliverable, "links/")).json()
    assert [link["url"] for link in links["results"]] == ["https://d.example/1"]
    assert links["next"] is None
    comments = client.get(_url(deliverable, "comments/")).json()["results"]
    assert [c["body"] for c in comments] == ["First draft is up."]
    history = client.get(_url(deliverable, "history/")).json()["results"]
    assert [entry["kind"] for entry in history] == ["comment", "link_added", "created"]
    assert history[1]["after"] == {"url": "https://d.example/1"}
    assert history[1]["after_text"] == "https://d.example/1"


def test_history_is_worded_in_the_readers_language(work):
    client = client_as(work["member"], "token")
    english = client.get(_url(work["deliverable"], "history/")).json()["results"]
    japanese = client.get(_url(work["deliverable"], "history/"), HTTP_ACCEPT_LANGUAGE="ja")
    japanese = japanese.json()["results"]
    assert english[-1]["kind_label"] == "planned the deliverable"
    assert japanese[-1]["kind_label"] != english[-1]["kind_label"]
    assert japanese[-1]["kind"] == "created"


def test_deliverable_types_are_the_catalogue(work):
    body = client_as(work["member"], "read_only_token").get("/api/v1/deliverable-types/").json()
    report = next(row for row in body if row["slug"] == "analysis-report")
    assert report["role"]["slug"] and report["checklist"]


def test_reviews_are_not_exposed(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert not [path for path in schema["paths"] if "review" in path or "evaluation" in path]


# --- writing ---------------------------------------------------------------------------


def test_manager_plans_a_deliverable_with_its_checklist(work):
    client = client_as(work["manager"], "token")
    response = client.post(
        LIST,
        {
            "project": work["project"].pk,
            "type": deliverable_type("analysis-report").pk,
            "title": "Retention study",
            "owner": work["member"].pk,
            "due_date": "2030-01-15",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = Deliverable.objects.get(pk=response.json()["id"])
    assert created.title == "Retention study" and created.owner == work["member"]
    assert created.checklist_items.count() == response.json()["checklist"]["total"] > 0
    assert response["Location"].endswith(f"/api/v1/deliverables/{created.pk}/")
    assert created.events.filter(kind=EventKind.CREATED, actor=work["manager"]).exists()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"owner": "outsider"}, 400, "owner"),
        ({"title": ["a"]}, 400, "title"),
        ({"title": "x" * 201}, 400, "title"),
        ({"due_date": "soon"}, 400, "due_date"),
        ({"due_date": "3100-01-01"}, 400, "due_date"),
        ({"type": 999999}, 400, "type"),
        ({"type": None}, 400, "type"),
        ({"project": "x"}, 400, "project"),
        # A project the caller may not see, or none at all: as reading it (404).
        ({"project": "other_project"}, 404, None),
        ({"project": 999999}, 404, None),
        ({"project": 99999999999999999999}, 404, None),
    ],
)
def test_planning_refuses_bad_input_and_saves_nothing(work, change, status, field):
    body = {
        "project": work["project"].pk,
        "type": deliverable_type("analysis-report").pk,
        "owner": work["member"].pk,
    }
    for name, value in change.items():
        body[name] = work[value].pk if isinstance(value, str) and value in work else value
    before = fingerprint()
    response = client_as(work["manager"], "token").post(LIST, body, format="json")
    problem = _problem(response, status)
    assert field in _fields(problem) if field else problem["code"] == "not_found"
    assert fingerprint() == before


def test_planning_in_an_archived_project_is_refused(work):
    Project.objects.filter(pk=work["project"].pk).update(archived_at=timezone.now())
    body = {"project": work["project"].pk, "type": deliverable_type("analysis-report").pk}
    response = client_as(work["manager"], "token").post(LIST, body, format="json")
    assert _problem(response, 400)["errors"][0]["code"] == "archived"


def test_planning_before_the_project_starts_is_a_due_date_error(work):
    Project.objects.filter(pk=work["project"].pk).update(start_date=date(2030, 1, 1))
    body = {
        "project": work["project"].pk,
        "type": deliverable_type("analysis-report").pk,
        "due_date": "2029-12-31",
    }
    response = client_as(work["manager"], "token").post(LIST, body, format="json")
    assert _fields(_problem(response, 400)) == {"due_date"}


def test_member_cannot_plan(work):
    body = {"project": work["project"].pk, "type": deliverable_type("analysis-report").pk}
    response = client_as(work["member"], "token").post(LIST, body, format="json")
    _problem(response, 403)


def test_edit_with_if_match_and_a_stale_one_is_412_with_the_current_representation(work):
    deliverable = work["deliverable"]
    client = client_as(work["manager"], "token")
    version = deliverable.version
    response = client.patch(
        _url(deliverable), {"title": "Renamed"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Renamed" and response.json()["version"] == version + 1
    assert response["ETag"] == f'"{version + 1}"'
    before = fingerprint()
    stale = client.patch(
        _url(deliverable), {"title": "Again"}, format="json", HTTP_IF_MATCH=f'"{version}"'
    )
    body = _problem(stale, 412)
    assert body["code"] == "stale" and body["current"]["title"] == "Renamed"
    assert stale["ETag"] == f'"{version + 1}"'
    assert fingerprint() == before


def test_a_one_off_with_a_description_is_added_and_its_description_edited(work):
    from deliverables.models import OTHER_TYPE_SLUG, DeliverableType

    client = client_as(work["manager"], "token")
    other = DeliverableType.objects.get(slug=OTHER_TYPE_SLUG)
    untitled = client.post(LIST, {"project": work["project"].pk, "type": other.pk}, format="json")
    assert _fields(_problem(untitled, 400)) == {"title"}  # "Other" needs its own title
    response = client.post(
        LIST,
        {
            "project": work["project"].pk,
            "type": other.pk,
            "title": "Vendor contract review",
            "description": "  Check the **data** clauses.  ",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["description"] == "Check the **data** clauses."
    edited = client.patch(
        _url(Deliverable.objects.get(pk=body["id"])),
        {"description": "Check the data and privacy clauses."},
        format="json",
        HTTP_IF_MATCH=f'"{body["version"]}"',
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["description"] == "Check the data and privacy clauses."
    assert edited.json()["version"] == body["version"] + 1
    event = Deliverable.objects.get(pk=body["id"]).events.get(kind=EventKind.DESCRIPTION)
    assert event.payload["after"] == {"text": "Check the data and privacy clauses."}
    too_long = client.patch(
        _url(Deliverable.objects.get(pk=body["id"])), {"description": "x" * 5001}, format="json"
    )
    assert _fields(_problem(too_long, 400)) == {"description"}


def test_edit_without_changes_writes_nothing(work):
    deliverable = work["deliverable"]
    client = client_as(work["manager"], "token")
    response = client.patch(_url(deliverable), {"title": deliverable.title}, format="json")
    assert response.status_code == 200 and response.json()["version"] == deliverable.version


@pytest.mark.parametrize("header", ['"abc"', "3", '"1", "2"'])
def test_a_malformed_if_match_is_400(work, header):
    response = client_as(work["manager"], "token").patch(
        _url(work["deliverable"]), {"title": "x"}, format="json", HTTP_IF_MATCH=header
    )
    _problem(response, 400)


def test_changing_the_type_asks_to_confirm_dropping_answers(work):
    deliverable = work["deliverable"]
    text = _item(deliverable, "text")
    text.answer = "An answer the new type has no question for."
    text.save()
    client = client_as(work["manager"], "token")
    pipeline = deliverable_type("data-pipeline").pk
    refused = client.patch(_url(deliverable), {"type": pipeline}, format="json")
    assert _fields(_problem(refused, 400)) == {"confirm_type_change"}
    done = client.patch(
        _url(deliverable), {"type": pipeline, "confirm_type_change": True}, format="json"
    )
    assert done.status_code == 200 and done.json()["type"]["slug"] == "data-pipeline"


def test_owner_cannot_edit(work):
    response = client_as(work["member"], "token").patch(
        _url(work["deliverable"]), {"title": "Mine"}, format="json"
    )
    _problem(response, 403)


def _move(client, deliverable, status, **extra):
    return client.post(_url(deliverable, "transition/"), {"status": status, **extra}, format="json")


def test_owner_moves_it_along_but_cannot_mark_it_done(work):
    deliverable = work["deliverable"]
    owner = client_as(work["member"], "token")
    assert _move(owner, deliverable, "in_progress").json()["status"] == "in_progress"
    assert _move(owner, deliverable, "in_review").json()["status"] == "in_review"
    before = fingerprint()
    _problem(_move(owner, deliverable, "done", override_reason="trust me"), 403)
    assert fingerprint() == before


def test_done_needs_the_required_items_and_the_error_names_them(work):
    deliverable = work["deliverable"]
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.IN_REVIEW)
    manager = client_as(work["manager"], "token")
    body = _problem(_move(manager, deliverable, "done"), 400)
    assert body["code"] == "checklist_open"
    required = deliverable.checklist_items.filter(required=True)
    assert {item["id"] for item in body["missing_items"]} == set(
        required.values_list("pk", flat=True)
    )
    assert all(item["text"] for item in body["missing_items"])
    response = _move(manager, deliverable, "done", override_reason="Signed off in the meeting.")
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert response.json()["done_override_reason"] == "Signed off in the meeting."
    assert deliverable.events.filter(kind=EventKind.DONE_OVERRIDE).exists()


def test_done_with_every_required_item_complete(work):
    deliverable = work["deliverable"]
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.IN_REVIEW)
    for item in deliverable.checklist_items.filter(required=True):
        item.checked, item.answer, item.link = True, "yes", "https://x.example"
        item.save()
    response = _move(client_as(work["manager"], "token"), deliverable, "done")
    assert response.status_code == 200 and response.json()["done_override_reason"] == ""


@pytest.mark.parametrize(
    ("status", "extra", "code"),
    [
        ("blocked", {}, "reason_required"),
        ("done", {"override_reason": "x"}, "transition"),  # not from not started
        ("finished", {}, "invalid_choice"),
    ],
)
def test_refused_moves_are_400_and_change_nothing(work, status, extra, code):
    before = fingerprint()
    body = _problem(
        _move(client_as(work["manager"], "token"), work["deliverable"], status, **extra), 400
    )
    assert code in {error["code"] for error in body["errors"]}
    assert fingerprint() == before


def test_stale_transition_is_412(work):
    deliverable = work["deliverable"]
    client = client_as(work["member"], "token")
    response = client.post(
        _url(deliverable, "transition/"),
        {"status": "in_progress"},
        format="json",
        HTTP_IF_MATCH=f'"{deliverable.version + 5}"',
    )
    assert _problem(response, 412)["current"]["status"] == "not_started"


def test_cancel_needs_a_reason_and_a_manager(work):
    deliverable = work["deliverable"]
    _problem(
        client_as(work["member"], "token").post(
            _url(deliverable, "cancel/"), {"reason": "x"}, format="json"
        ),
        403,
    )
    manager = client_as(work["manager"], "token")
    assert "reason" in _fields(
        _problem(manager.post(_url(deliverable, "cancel/"), {"reason": " "}, format="json"), 400)
    )
    response = manager.post(
        _url(deliverable, "cancel/"), {"reason": "Out of scope."}, format="json"
    )
    assert response.status_code == 200 and response.json()["cancelled_reason"] == "Out of scope."


def test_checklist_answers_by_kind(work):
    deliverable = work["deliverable"]
    client = client_as(work["member"], "token")
    tick, text, link = (_item(deliverable, kind) for kind in ("tick", "text", "link"))
    version = deliverable.version
    response = client.patch(
        _url(deliverable, f"checklist/{tick.pk}/"),
        {"done": True},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{version + 1}"'
    assert next(i for i in response.json()["items"] if i["id"] == tick.pk)["complete"] is True
    response = client.patch(
        _url(deliverable, f"checklist/{text.pk}/"), {"answer": "Gradient boosting."}, format="json"
    )
    assert response.status_code == 200
    text.refresh_from_db()
    assert text.answer == "Gradient boosting." and text.answered_by == work["member"]
    before = fingerprint()
    assert _fields(
        _problem(
            client.patch(_url(deliverable, f"checklist/{text.pk}/"), {"done": True}, format="json"),
            400,
        )
    ) == {"done"}
    assert _fields(
        _problem(
            client.patch(
                _url(deliverable, f"checklist/{link.pk}/"), {"link": "not a url"}, format="json"
            ),
            400,
        )
    ) == {"link"}
    stale = client.patch(
        _url(deliverable, f"checklist/{link.pk}/"),
        {"link": "https://x.example"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert _problem(stale, 412)["current"]["items"]
    other_item = work["other"].checklist_items.first()
    _problem(
        client.patch(
            _url(deliverable, f"checklist/{other_item.pk}/"), {"done": True}, format="json"
        ),
        404,
    )
    assert fingerprint() == before


def test_a_done_deliverables_checklist_is_locked(work):
    deliverable = work["deliverable"]
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.DONE)
    tick = _item(deliverable, "tick")
    response = client_as(work["manager"], "token").patch(
        _url(deliverable, f"checklist/{tick.pk}/"), {"done": True}, format="json"
    )
    assert _problem(response, 400)["errors"][0]["code"] == "done"


def test_links_and_comments(work):
    deliverable = work["deliverable"]
    client = client_as(work["member"], "session")
    added = client.post(
        _url(deliverable, "links/"),
        {"kind": "repository", "url": "github.com/acme/churn", "label": "Code"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["url"] == "https://github.com/acme/churn"
    bad = client.post(_url(deliverable, "links/"), {"kind": "poem", "url": "x"}, format="json")
    assert _fields(_problem(bad, 400)) == {"kind"}
    bad = client.post(
        _url(deliverable, "links/"), {"kind": "document", "url": "not a url"}, format="json"
    )
    assert _fields(_problem(bad, 400)) == {"url"}
    removed = client.delete(_url(deliverable, f"links/{added.json()['id']}/"))
    assert removed.status_code == 204
    assert deliverable.events.filter(kind=EventKind.LINK_REMOVED).exists()
    _problem(client.delete(_url(deliverable, f"links/{added.json()['id']}/")), 404)
    comment = client.post(
        _url(deliverable, "comments/"), {"body": "Ready for review."}, format="json"
    )
    assert comment.status_code == 201 and comment.json()["author"]["username"] == "api-member"
    assert _fields(
        _problem(client.post(_url(deliverable, "comments/"), {"body": "  "}, format="json"), 400)
    ) == {"body"}


def test_bad_bodies_are_problems_not_500s(work):
    client = client_as(work["manager"], "token")
    url = _url(work["deliverable"], "transition/")
    _problem(client.post(url, "{not json", content_type="application/json"), 400)
    _problem(client.post(url, "status=done", content_type="application/x-www-form-urlencoded"), 415)
    _problem(client.post(url, [1, 2], format="json"), 400)
    _problem(client.get(f"{LIST}99999999999999999/"), 404)
    assert client.get(f"{LIST}abc/").status_code == 404


# --- query counts: independent of the data's size ---------------------------------------


def _grow(personas, count: int) -> None:
    """`count` more deliverables in the project, each with links and comments."""
    for n in range(count):
        deliverable = deliverable_create(
            project=personas["project"],
            type=deliverable_type("analysis-report"),
            title=f"Extra {n}",
            owner=personas["member"],
            due_date=None if n % 2 else date(2030, 1, 1),
            actor=personas["manager"],
        )
        link_add(
            deliverable=deliverable,
            actor=personas["member"],
            kind="document",
            url=f"https://x.example/{n}",
        )
        comment_add(deliverable=deliverable, actor=personas["member"], body=f"Note {n}")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        LIST,
        f"{LIST}?sort=owner&page_size=3",
        f"{LIST}?overdue=true&status=open&q=extra",
        "/api/v1/me/work/?page_size=3",
        "/api/v1/deliverable-types/",
    ],
)
def test_list_queries_do_not_grow_with_the_data(work, url):
    # Token lookup (+ its last-used write, once a minute: made before counting),
    # then the filter form's choices it validates, the page's ids, the page's rows.
    client = client_as(work["manager"], "token")
    _grow(work, 2)
    client.get(url)
    small = _count(client, url)
    _grow(work, 8)
    assert _count(client, url) == small
    # The second page as well (its cursor filter).
    body = client.get(url).json()
    if isinstance(body, dict) and body.get("next"):
        assert _count(client, body["next"]) == small


@pytest.mark.parametrize("tail", ["", "checklist/", "links/", "comments/", "history/"])
def test_one_deliverables_queries_do_not_grow_with_its_data(work, tail):
    deliverable = work["deliverable"]
    client = client_as(work["manager"], "token")
    client.get(_url(deliverable, tail))
    small = _count(client, _url(deliverable, tail))
    for n in range(5):
        link_add(
            deliverable=deliverable,
            actor=work["member"],
            kind="document",
            url=f"https://y.example/{n}",
        )
        comment_add(deliverable=deliverable, actor=work["member"], body=f"More {n}")
    assert _count(client, _url(deliverable, tail)) == small


# --- the web and the API agree ----------------------------------------------------------

AGREEMENT_QUERIES = ["", "status=open", "overdue=on", "q=churn", "sort=owner", "status=blocked"]


# How many deliverables each persona's unfiltered list holds: `work`'s two and
# `many`'s seventeen, all but one in `project`.
LIST_SIZES = {"outsider": 0, "member": 18, "manager": 18, "other_manager": 1, "admin": 19}


@pytest.mark.parametrize("persona", list(LIST_SIZES))
def test_web_list_and_api_list_show_the_same_deliverables(work, many, persona):
    user = work[persona]
    web = client_as(user, "session")
    api = client_as(user, "token")
    for query in AGREEMENT_QUERIES:
        page = web.get(f"/deliverables/?{query}").context["page_obj"]
        web_ids = set()
        for number in page.paginator.page_range:
            listed = web.get(f"/deliverables/?{query}&page={number}").context["page_obj"]
            web_ids |= {item.pk for item in listed.object_list}
        api_query = query.replace("overdue=on", "overdue=true")
        assert set(_walk(api, f"{LIST}?{api_query}&page_size=4")) == web_ids, (persona, query)
        if not query:
            assert len(web_ids) == LIST_SIZES[persona]


def test_archived_projects_leave_the_list_but_stay_readable(work):
    Project.objects.filter(pk=work["project"].pk).update(archived_at=timezone.now())
    client = client_as(work["member"], "token")
    assert _walk(client, LIST) == []
    response = client.get(_url(work["deliverable"]))
    assert response.status_code == 200 and response.json()["allowed"]["update"] is False
    _problem(_move(client, work["deliverable"], "in_progress"), 403)


def test_session_writes_need_csrf(work):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(work["member"])
    response = _move(client, work["deliverable"], "in_progress")
    assert _problem(response, 403)["detail"].startswith("CSRF")
    assert not DeliverableEvent.objects.filter(kind=EventKind.STATUS).exists()


def test_a_new_member_can_be_made_owner(work):
    newcomer = UserFactory(username="newcomer")
    MembershipFactory(project=work["project"], user=newcomer)
    response = client_as(work["manager"], "token").patch(
        _url(work["deliverable"]), {"owner": newcomer.pk}, format="json"
    )
    assert response.status_code == 200 and response.json()["owner"]["id"] == newcomer.pk


@pytest.mark.parametrize(
    ("tail", "body", "unknown"),
    [
        ("", {"status": "done"}, "status"),  # status moves through transition/
        ("", {"version": 1, "title": "Renamed"}, "version"),  # the version is If-Match
        ("transition/", {"status": "in_progress", "foo": 1}, "foo"),
        ("comments/", {"body": "Hi", "author": 1}, "author"),
    ],
)
def test_a_field_the_body_does_not_take_is_a_400_and_changes_nothing(work, tail, body, unknown):
    deliverable = work["deliverable"]
    before = fingerprint()
    response = (
        client_as(work["manager"], "token").post(_url(deliverable, tail), body, format="json")
        if tail
        else client_as(work["manager"], "token").patch(_url(deliverable), body, format="json")
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {"field": unknown, "code": "unknown_field"} in [
        {"field": error["field"], "code": error["code"]} for error in errors
    ]
    assert fingerprint() == before


# --- a deliverable's own lists, page by page ---------------------------------------------

_SUBLISTS = {
    "links/": selectors.deliverable_links,
    "comments/": selectors.deliverable_comments,
    "history/": selectors.deliverable_events,
}


def _add_links_and_comments(deliverable, actor, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        link_add(
            deliverable=deliverable, actor=actor, kind="document", url=f"https://p.example/{n}"
        )
        comment_add(deliverable=deliverable, actor=actor, body=f"Note {n}")


@pytest.mark.parametrize("tail", list(_SUBLISTS))
def test_a_deliverables_lists_are_paged_in_the_same_queries_whatever_their_length(work, tail):
    # Token lookup, the deliverable (visibility), the page's ids, the page's rows
    # (with their people): the same for 3 rows a page out of 7 or out of 47.
    deliverable = work["deliverable"]
    client = client_as(work["manager"], "token")
    url = _url(deliverable, f"{tail}?page_size=3")
    _add_links_and_comments(deliverable, work["member"], 6)
    client.get(url)
    small = _count(client, url)
    _add_links_and_comments(deliverable, work["member"], 40, start=6)
    assert _count(client, url) == small
    body = client.get(url).json()
    assert len(body["results"]) == 3 and body["next"]
    assert _count(client, body["next"]) == small
    # Every row once, in the list's order (oldest first; history newest first).
    expected = list(_SUBLISTS[tail](deliverable=deliverable).values_list("pk", flat=True))
    assert _walk(client, url) == expected
    assert len(expected) > 40


@pytest.mark.parametrize("tail", list(_SUBLISTS))
def test_a_deliverables_lists_are_404_for_those_who_cannot_see_it(work, tail):
    response = client_as(work["outsider"], "token").get(_url(work["deliverable"], tail))
    assert _problem(response, 404)["code"] == "not_found"
