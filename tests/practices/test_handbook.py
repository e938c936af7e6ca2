"""The team handbook: one page over the process documentation's checklist."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deliverables.models import ChecklistItem, Deliverable
from deliverables.practices import selectors
from deliverables.services import ChecklistAnswer, checklist_update
from roles.services import project_create
from tests.factories import manager_user

SCRIPT = '<script>document.title="pwned"</script>Ask in #churn <img src=x onerror="alert(1)">'


def _answer(p, texts: dict[str, str]) -> None:
    items = {item.text: item for item in p.handbook.checklist_items.all()}
    p.handbook.refresh_from_db()
    checklist_update(
        deliverable=p.handbook,
        actor=p.people["other_member"],
        version=None,
        answers={items[text].pk: ChecklistAnswer(answer=answer) for text, answer in texts.items()},
    )


DATA_Q = "Where does the model's data come from, and how is it produced?"
COMMS_Q = "Who do I contact when I am stuck, and how?"
SQL_Q = "How do we keep SQL maintainable and reusable?"


def test_questions_are_grouped_by_area_in_the_guides_order(client, practices):
    client.force_login(practices.people["person"])
    response = client.get(reverse("practices:handbook", args=[practices.project.pk]))
    labels = [area.label for area in response.context["areas"]]
    assert labels == [
        "Data", "Model", "Training", "Production and monitoring", "Pipelines", "SQL",
        "Infrastructure", "Communication",
    ]  # fmt: skip
    # The project's own question sits in the area chosen for it, marked as its own.
    communication = response.context["areas"][-1].items
    assert [item.text for item in communication][-1] == "Who runs the retention campaigns?"
    assert communication[-1].project_question
    assert "project question" in response.content.decode()


def test_project_questions_without_an_area_come_last(client, practices):
    client.force_login(practices.people["manager"])
    add = reverse("practices:handbook_question_add", args=[practices.project.pk])
    client.post(add, {"area": "", "text": "Which Slack channel?", "answer_kind": "text"})
    response = client.get(reverse("practices:handbook", args=[practices.project.pk]))
    last = response.context["areas"][-1]
    assert last.label == "This project's own questions"
    assert [item.text for item in last.items] == ["Which Slack channel?"]


def test_completeness_counts_answered_questions(practices):
    book = selectors.project_handbook(project=practices.project, today=timezone.localdate())
    assert (book.answered, book.total) == (0, 30)  # 29 from the catalogue + 1 of the project
    _answer(practices, {DATA_Q: "Nightly warehouse export.", SQL_Q: "dbt models, reviewed."})
    book = selectors.project_handbook(project=practices.project, today=timezone.localdate())
    assert (book.answered, book.total, book.percent) == (2, 30, 7)
    assert (book.required_answered, book.required_total) == (2, 11)


def test_answers_show_who_answered_and_render_markdown(client, practices):
    _answer(practices, {DATA_Q: "From the **warehouse**:\n\n- billing\n- support"})
    client.force_login(practices.people["person"])
    body = client.get(reverse("practices:handbook", args=[practices.project.pk])).content.decode()
    assert "<strong>warehouse</strong>" in body and "<li>billing</li>" in body
    answerer = practices.people["other_member"].get_full_name()
    assert f"Answered by {answerer}" in body
    assert "2 questions answered" not in body and "1 of 30 questions answered" in body


def test_script_in_an_answer_is_not_executable(client, practices):
    _answer(practices, {COMMS_Q: SCRIPT})
    client.force_login(practices.people["person"])
    for name in ("practices:handbook", "practices:handbook_newcomer"):
        body = client.get(reverse(name, args=[practices.project.pk])).content.decode()
        assert "<script>document.title" not in body
        assert "&lt;script&gt;document.title" in body  # shown as text
        assert "&lt;img src=x" in body  # the tag is text, not an element
        assert not re.search(r"<img[^>]*onerror", body)


def test_newcomer_view_lists_answers_only_in_reading_order(client, practices):
    _answer(practices, {DATA_Q: "Warehouse.", COMMS_Q: "Ask in #churn.", SQL_Q: "dbt."})
    client.force_login(practices.people["person"])
    response = client.get(reverse("practices:handbook_newcomer", args=[practices.project.pk]))
    areas = response.context["areas"]
    assert [area.label for area in areas] == ["Communication", "Data", "SQL"]
    assert [item.text for area in areas for item in area.items] == [COMMS_Q, DATA_Q, SQL_Q]


def test_review_date_is_flagged_once_passed(client, practices):
    client.force_login(practices.people["manager"])
    url = reverse("practices:handbook", args=[practices.project.pk])
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        reverse("practices:handbook_review_date", args=[practices.project.pk]),
        {"review_on": yesterday.isoformat(), "version": practices.project.version},
    )
    assert response.status_code == 302
    assert "Review overdue" in client.get(url).content.decode()
    client.post(
        reverse("practices:handbook_review_date", args=[practices.project.pk]),
        {
            "review_on": (yesterday + timedelta(days=30)).isoformat(),
            "version": practices.project.version + 1,
        },
    )
    assert "Review overdue" not in client.get(url).content.decode()


def test_bad_review_date_is_refused_with_a_message(client, practices):
    client.force_login(practices.people["manager"])
    response = client.post(
        reverse("practices:handbook_review_date", args=[practices.project.pk]),
        {"review_on": "31/31/2026", "version": practices.project.version},
    )
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    practices.project.refresh_from_db()
    assert practices.project.handbook_review_on is None


def test_project_questions_are_added_and_removed(client, practices):
    client.force_login(practices.people["manager"])
    add = reverse("practices:handbook_question_add", args=[practices.project.pk])
    response = client.post(add, {"area": "SQL", "text": "  ", "answer_kind": "text"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = client.post(
        add, {"area": "SQL", "text": "Where do views live?", "answer_kind": "link"}
    )
    assert response.status_code == 302
    item = ChecklistItem.objects.get(text="Where do views live?")
    assert item.project_question and item.deliverable_id == practices.handbook.pk
    # The question is part of the deliverable's checklist: one mechanism.
    client.force_login(practices.people["other_member"])
    detail = client.get(reverse("deliverables:detail", args=[practices.handbook.pk]))
    assert "Where do views live?" in detail.content.decode()
    client.force_login(practices.people["manager"])
    remove = reverse("practices:handbook_question_remove", args=[practices.project.pk, item.pk])
    assert client.get(remove).status_code == 200
    version = Deliverable.objects.get(pk=practices.handbook.pk).version
    assert client.post(remove, {"version": version}).status_code == 302
    assert not ChecklistItem.objects.filter(pk=item.pk).exists()


def test_catalogue_questions_cannot_be_removed(client, practices):
    catalogue_item = practices.handbook.checklist_items.filter(project_question=False).first()
    client.force_login(practices.people["manager"])
    url = reverse(
        "practices:handbook_question_remove", args=[practices.project.pk, catalogue_item.pk]
    )
    assert client.post(url).status_code == 404
    assert ChecklistItem.objects.filter(pk=catalogue_item.pk).exists()


def test_archived_project_handbook_is_read_only(client, practices):
    from roles.services import project_archive

    project_archive(project=practices.project, actor=practices.people["manager"], version=None)
    client.force_login(practices.people["manager"])
    url = reverse("practices:handbook", args=[practices.project.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("practices:handbook_question_add", args=[practices.project.pk]),
        {"area": "SQL", "text": "Late question", "answer_kind": "text"},
    )
    assert response.status_code == 403
    assert not ChecklistItem.objects.filter(text="Late question").exists()


@pytest.mark.django_db
def test_no_process_documentation_shows_what_to_do(client):
    manager = manager_user(username="lead")
    project = project_create(name="Fresh", managers=[manager], actor=manager)
    client.force_login(manager)
    response = client.get(reverse("practices:handbook", args=[project.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "No handbook yet" in body
    assert reverse("deliverables:plan", args=[project.pk]) in body
    assert not Deliverable.objects.filter(project=project).exists()


def test_completeness_shows_on_the_project_and_portfolio_dashboards(client, practices):
    _answer(practices, {DATA_Q: "Warehouse.", SQL_Q: "dbt.", COMMS_Q: "Ask in #churn."})
    client.force_login(practices.people["manager"])
    project_page = client.get(reverse("roles:project_detail", args=[practices.project.pk]))
    assert "3 of 30 questions answered (10%)" in project_page.content.decode()
    dashboard = client.get(reverse("deliverables:portfolio_dashboard"))
    row = next(p for p in dashboard.context["dashboard"].projects if p.pk == practices.project.pk)
    assert row.handbook == 10


def test_everyone_on_the_team_answers_the_handbook(client, practices):
    """`person` neither owns the handbook nor manages the project, yet answers it;
    its status stays with the owner and the managers."""
    handbook = practices.handbook
    item = handbook.checklist_items.get(text=DATA_Q)
    client.force_login(practices.people["person"])
    page = client.get(reverse("deliverables:detail", args=[handbook.pk]))
    assert page.context["can_answer"] and not page.context["can_update"]
    response = client.post(
        reverse("deliverables:checklist", args=[handbook.pk]),
        {"version": Deliverable.objects.get(pk=handbook.pk).version, f"item_{item.pk}": "Kafka."},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.answer == "Kafka." and item.answered_by == practices.people["person"]
    transition = client.post(
        reverse("deliverables:transition", args=[handbook.pk]),
        {"version": Deliverable.objects.get(pk=handbook.pk).version, "to_status": "in_progress"},
    )
    assert transition.status_code == 403


def test_people_off_the_team_cannot_answer_it(client, practices):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="stranger"))
    response = client.post(
        reverse("deliverables:checklist", args=[practices.handbook.pk]), {"version": 1}
    )
    assert response.status_code == 404


def test_a_question_cannot_be_added_twice(client, practices):
    client.force_login(practices.people["manager"])
    add = reverse("practices:handbook_question_add", args=[practices.project.pk])
    response = client.post(
        add, {"area": "", "text": "who runs the retention campaigns?", "answer_kind": "text"}
    )
    assert response.status_code == 400
    assert "already has this question" in response.content.decode()


def test_the_checklist_keeps_project_questions_in_their_area(client, practices):
    client.force_login(practices.people["manager"])
    add = reverse("practices:handbook_question_add", args=[practices.project.pk])
    client.post(add, {"area": "Data", "text": "Who owns the label?", "answer_kind": "text"})
    client.post(add, {"area": "", "text": "Which Slack channel?", "answer_kind": "text"})
    page = client.get(reverse("deliverables:detail", args=[practices.handbook.pk]))
    items = [item for item, _field in page.context["checklist_form"].bound_items()]
    areas = [item.area for item in items]
    # Each area is one run (no heading twice), and area-less questions come last.
    runs = [area for index, area in enumerate(areas) if index == 0 or areas[index - 1] != area]
    assert len(runs) == len(set(runs)) and runs[-1] == ""
    data = [item.text for item in items if item.area == "Data"]
    assert data[-1] == "Who owns the label?"


def test_a_past_review_date_is_saved_with_a_warning(client, practices):
    client.force_login(practices.people["manager"])
    response = client.post(
        reverse("practices:handbook_review_date", args=[practices.project.pk]),
        {"review_on": "2021-01-01", "version": practices.project.version},
        follow=True,
    )
    assert "It has already passed" in response.content.decode()
    practices.project.refresh_from_db()
    assert practices.project.handbook_review_on.isoformat() == "2021-01-01"


def test_question_changes_read_in_each_readers_language(practices):
    """A question added by someone reading Japanese reads in English for others."""
    from django.utils import translation

    from deliverables.models import DeliverableEvent, EventKind
    from deliverables.practices.services import handbook_question_add, handbook_question_remove

    with translation.override("ja"):
        item = handbook_question_add(
            deliverable=practices.handbook, actor=practices.people["manager"], area="SQL",
            text="Where do views live?", answer_kind="text", required=False,
        )  # fmt: skip
        handbook_question_remove(item=item, actor=practices.people["manager"])
    removed, added = DeliverableEvent.objects.filter(
        deliverable=practices.handbook, kind=EventKind.CHECKLIST
    ).order_by("-pk")[:2]
    with translation.override("en"):
        assert added.display_after == "added the question: Where do views live?"
        assert removed.display_before == "removed the question: Where do views live?"
    with translation.override("ja"):
        assert added.display_after == "質問を追加：Where do views live?"


def test_due_date_changes_read_in_the_readers_date_format():
    from django.utils import translation

    from deliverables.models import DeliverableEvent, EventKind

    event = DeliverableEvent(
        kind=EventKind.DUE_DATE,
        payload={"before": {"date": "2026-09-27"}, "after": {"date": "2026-12-05"}},
    )
    with translation.override("en"):
        assert (event.display_before, event.display_after) == ("Sep 27, 2026", "Dec 5, 2026")
    with translation.override("ja"):
        assert event.display_after == "2026年12月5日"
    older = DeliverableEvent(kind=EventKind.DUE_DATE, payload={"before": {"text": "soon"}})
    assert older.display_before == "soon"  # text an older entry kept is shown as written


def test_a_done_handbook_offers_no_answering_nor_question_changes(client, practices):
    """Done, its questions and answers are what was approved: no "Write answers", no
    question to add or remove (the services would refuse), a note to reopen instead;
    the review date stays editable."""
    handbook_url = reverse("practices:handbook", args=[practices.project.pk])
    client.force_login(practices.people["manager"])
    page = client.get(handbook_url).content.decode()
    assert "Write answers" in page and "Add question" in page and "Remove this question" in page
    Deliverable.objects.filter(pk=practices.handbook.pk).update(status="done")
    page = client.get(handbook_url).content.decode()
    assert "Write answers" not in page
    assert "Add question" not in page
    assert "Remove this question" not in page
    assert "Reopen it to change its checklist" in page
    assert "Save review date" in page
    # The team member who may answer an open handbook: nothing to write now either.
    client.force_login(practices.people["person"])
    page = client.get(handbook_url).content.decode()
    assert "Write answers" not in page
    assert "Reopen it to change its checklist" not in page  # they may not reopen it


def test_a_forged_question_change_on_a_done_handbook_is_refused(client, practices):
    Deliverable.objects.filter(pk=practices.handbook.pk).update(status="done")
    client.force_login(practices.people["manager"])
    before = list(ChecklistItem.objects.order_by("pk").values_list("pk", "text"))
    response = client.post(
        reverse("practices:handbook_question_add", args=[practices.project.pk]),
        {"area": "", "text": "Which Slack channel?", "answer_kind": "text"},
    )
    assert response.status_code == 400
    assert "Reopen it before adding questions" in response.content.decode()
    response = client.post(
        reverse(
            "practices:handbook_question_remove",
            args=[practices.project.pk, practices.question.pk],
        ),
        {"version": Deliverable.objects.get(pk=practices.handbook.pk).version},
    )
    assert response.status_code == 400
    assert "Reopen it before removing questions" in response.content.decode()
    assert list(ChecklistItem.objects.order_by("pk").values_list("pk", "text")) == before
