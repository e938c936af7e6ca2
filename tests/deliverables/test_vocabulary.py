"""The domain's words, each defined once: complete checklist items, open, overdue and
due within N days; and the CSV export that reads them set-based, chunk by chunk."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables import selectors
from deliverables.models import (
    COMPLETE,
    AnswerKind,
    ChecklistItem,
    Deliverable,
    DeliverableStatus,
    holds,
)
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 10)


@pytest.mark.parametrize(
    ("kind", "answer", "complete"),
    [
        (AnswerKind.TICK, {"checked": True}, True),
        (AnswerKind.TICK, {"checked": False}, False),
        (AnswerKind.TICK, {"answer": "text on a tick item", "link": "https://e.example"}, False),
        (AnswerKind.TEXT, {"answer": "Because."}, True),
        (AnswerKind.TEXT, {"answer": ""}, False),
        (AnswerKind.TEXT, {"checked": True}, False),
        (AnswerKind.LINK, {"link": "https://e.example/doc"}, True),
        (AnswerKind.LINK, {"link": ""}, False),
        (AnswerKind.LINK, {"checked": True, "answer": "no link"}, False),
    ],
)
def test_an_item_is_complete_by_its_kind_in_queries_and_on_the_object(kind, answer, complete):
    owner = UserFactory()
    project = project_create(name="P", managers=[manager_user()])
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), title="T", owner=owner
    )
    item = ChecklistItem.objects.create(
        deliverable=deliverable, text="Asked", answer_kind=kind, **answer
    )
    assert item.is_complete is complete
    assert ChecklistItem.objects.complete().filter(pk=item.pk).exists() is complete


def test_holds_refuses_lookups_it_cannot_evaluate():
    from django.db.models import Q

    with pytest.raises(ValueError, match="exact lookups"):
        holds(Q(deliverable__title="x"), ChecklistItem())
    assert holds(COMPLETE, ChecklistItem(answer_kind=AnswerKind.TICK, checked=True))


def test_due_within_is_open_work_due_from_today_to_the_last_day_included():
    owner = UserFactory()
    project = project_create(name="P", managers=[manager_user()])
    membership_add(project=project, user=owner)

    def make(due, status=DeliverableStatus.NOT_STARTED) -> int:
        deliverable = deliverable_create(
            project=project, type=deliverable_type("prd"), title=f"{due}", owner=owner, due_date=due
        )
        Deliverable.objects.filter(pk=deliverable.pk).update(status=status, cancelled_reason="x")
        return deliverable.pk

    late = make(date(2026, 6, 9))
    today = make(TODAY)
    last = make(date(2026, 6, 17))
    make(date(2026, 6, 18))
    make(TODAY, DeliverableStatus.DONE)
    make(TODAY, DeliverableStatus.CANCELLED)
    make(None)
    assert set(Deliverable.objects.due_within(7, TODAY).values_list("pk", flat=True)) == {
        today,
        last,
    }
    assert set(Deliverable.objects.overdue(TODAY).values_list("pk", flat=True)) == {late}


def _export(client) -> tuple[bytes, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("deliverables:export"))
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    return body, len(captured)


def test_the_export_reads_in_chunks_with_the_same_content(client, monkeypatch):
    """Three queries per chunk (checklist items counted, complete items counted,
    owners not met before), none per row; the bytes do not depend on the chunks."""
    manager = manager_user()
    client.force_login(manager)
    project = project_create(name="Chunked", managers=[manager])
    for n in range(6):
        owner = UserFactory(first_name=f"Owner{n}")
        membership_add(project=project, user=owner)
        deliverable = deliverable_create(
            project=project,
            type=deliverable_type("prd"),
            title="" if n % 2 else f"Part {n}",
            owner=owner if n != 3 else None,
            due_date=date(2026, 6, 1 + n),
        )
        if n % 3 == 0:
            deliverable.checklist_items.filter(answer_kind=AnswerKind.TICK).update(checked=True)
    whole, whole_queries = _export(client)
    monkeypatch.setattr(selectors, "EXPORT_CHUNK_SIZE", 2)
    chunked, chunked_queries = _export(client)
    assert chunked == whole
    assert chunked_queries == whole_queries + 2 * 3  # three chunks instead of one
    rows = list(csv.DictReader(io.StringIO(whole.decode("utf-8-sig"))))
    first = Deliverable.objects.get(title="Part 0")
    assert rows[0]["checklist_done"] == str(first.checklist_items.complete().count())
    assert rows[0]["checklist_done"] != "0"
    assert rows[0]["checklist_total"] == str(first.checklist_items.count())
    assert rows[1]["deliverable"] == deliverable_type("prd").display_name
    assert rows[3]["owner"] == "" and rows[3]["owner_name"] == ""
    assert (
        rows[4]["owner_name"]
        == "Owner4 " + UserFactory._meta.model.objects.get(first_name="Owner4").last_name
    )


def test_the_deliverable_page_draws_statuses_from_the_enumeration(client):
    """The banners and buttons compare with DeliverableStatus, not with literals."""
    manager, owner = manager_user(), UserFactory()
    project = project_create(name="Drawn", managers=[manager])
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), title="T", owner=owner
    )
    client.force_login(manager)
    url = reverse("deliverables:detail", args=[deliverable.pk])
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.IN_REVIEW)
    page = client.get(url).content.decode()
    assert 'value="done" class="btn btn-sm btn-success"' in page
    # Blocking asks why first: its summary opens the reason box, whose button moves it.
    assert '<summary class="btn btn-sm btn-outline-warning">' in page
    assert 'value="blocked" class="btn btn-sm btn-warning"' in page
    assert 'value="in_progress" class="btn btn-sm btn-outline-primary"' in page
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status=DeliverableStatus.BLOCKED, blocked_reason="Waiting."
    )
    assert "<strong>Blocked:</strong>" in client.get(url).content.decode()
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status=DeliverableStatus.CANCELLED, cancelled_reason="Dropped."
    )
    assert "<strong>Cancelled:</strong>" in client.get(url).content.decode()
    Deliverable.objects.filter(pk=deliverable.pk).update(
        status=DeliverableStatus.DONE, done_override_reason="Approved anyway."
    )
    assert "Marked done with required items open:" in client.get(url).content.decode()


def test_status_sort_is_the_expression_its_index_holds():
    """The list's status sort and the partial index that serves it share one
    definition (STATUS_ORDER), so PostgreSQL can read the sorted page off the index."""
    from deliverables.models import STATUS_ORDER, Deliverable
    from deliverables.selectors import SORTS

    index = next(i for i in Deliverable._meta.indexes if i.name == "deliverable_open_status_idx")
    assert index.expressions[0] == STATUS_ORDER
    assert SORTS["status"][0] is STATUS_ORDER
