"""Two people save the same deliverable at the same moment, on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from deliverables.models import Deliverable, DeliverableEvent, EventKind
from deliverables.services import ChecklistAnswer, checklist_update, deliverable_transition
from roles.services import membership_add, project_create
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, manager_user


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_saves_one_wins_the_other_is_refused():
    require(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    from deliverables.services import deliverable_create

    manager = manager_user()
    owner = UserFactory()
    project = project_create(name="Race", managers=[manager])
    membership_add(project=project, user=owner)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("analysis-report"), title="Report", owner=owner
    )
    version = deliverable.version
    item = deliverable.checklist_items.filter(answer_kind="text").first()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(name: str, action) -> None:
        try:
            fresh = Deliverable.objects.select_related("project").get(pk=deliverable.pk)
            barrier.wait(timeout=10)
            action(fresh)
            outcomes[name] = "saved"
        except ValidationError as error:
            outcomes[name] = error.messages[0]
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=save,
            args=(
                "owner",
                lambda d: checklist_update(
                    deliverable=d,
                    actor=owner,
                    version=version,
                    answers={item.pk: ChecklistAnswer(answer="Answer from the owner")},
                ),
            ),
        ),
        threading.Thread(
            target=save,
            args=(
                "manager",
                lambda d: deliverable_transition(
                    deliverable=d, actor=manager, to_status="in_progress", version=version
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values(), key=lambda v: v != "saved")[0] == "saved"
    assert list(outcomes.values()).count("saved") == 1, outcomes
    loser = next(v for v in outcomes.values() if v != "saved")
    assert "Someone else saved this deliverable" in loser
    deliverable.refresh_from_db()
    assert deliverable.version == version + 1
    item.refresh_from_db()
    if outcomes["owner"] == "saved":
        assert item.answer == "Answer from the owner" and deliverable.status == "not_started"
    else:
        assert item.answer == "" and deliverable.status == "in_progress"
    winners = DeliverableEvent.objects.filter(kind__in=[EventKind.CHECKLIST, EventKind.STATUS])
    assert winners.count() == 1
