from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from deliverables.models import ChecklistItem, Deliverable, DeliverableEvent, DeliverableStatus
from roles.models import Membership, Project, TeamChange

pytestmark = pytest.mark.django_db


def test_load_data_refuses_without_debug_or_force():
    with pytest.raises(CommandError, match="--force"):
        call_command(
            "generate_load_data", "--projects", "2", "--people", "4", "--deliverables", "5"
        )
    assert not Deliverable.objects.exists()


@override_settings(DEBUG=True)
def test_load_data_builds_the_requested_sizes_with_owners_on_their_projects(capsys):
    call_command("generate_load_data", "--projects", "4", "--people", "30", "--deliverables", "200")
    assert Project.objects.count() == 4
    assert Deliverable.objects.count() == 200
    assert not Deliverable.objects.exclude(owner__memberships__project=F("project")).exists()
    done = Deliverable.objects.filter(status=DeliverableStatus.DONE)
    assert done.exists() and Deliverable.objects.filter(status=DeliverableStatus.BLOCKED).exists()
    assert (
        ChecklistItem.objects.filter(
            deliverable__in=done, checked=False, answer_kind="tick"
        ).count()
        == 0
    )
    assert ChecklistItem.objects.count() > 200
    # Readiness marks on scored work under way or finished, never on work not begun.
    from deliverables.readiness.models import Mark, RubricMark

    marks = RubricMark.objects.all()
    assert marks.filter(mark=Mark.AUTOMATED).exists() and marks.filter(mark=Mark.MANUAL).exists()
    assert not marks.filter(deliverable__status=DeliverableStatus.NOT_STARTED).exists()
    assert not marks.exclude(
        item__section__rubric__deliverable_type=F("deliverable__type")
    ).exists()
    # Their scores stored, as the services keep them (`rescore_readiness`).
    from deliverables.readiness.models import ReadinessScore

    marked = marks.values("deliverable").distinct().count()
    assert marked and ReadinessScore.objects.count() == marked
    assert Membership.objects.count() >= 30
    # History for the activity feeds: every deliverable was planned, those begun
    # changed status, and every team was built; all at different past moments.
    events = DeliverableEvent.objects.all()
    assert events.filter(kind="created").count() == 200
    assert (
        events.filter(kind="status").count()
        == Deliverable.objects.exclude(status=DeliverableStatus.NOT_STARTED).count()
    )
    assert TeamChange.objects.filter(action="member_added").count() == Membership.objects.count()
    moments = list(events.values_list("created_at", flat=True))
    assert max(moments) < timezone.now() and len(set(moments)) > 100
    newest = events.order_by("-created_at").select_related("deliverable").first()
    assert newest.project_id == newest.deliverable.project_id
    assert "200 deliverables" in capsys.readouterr().out


@override_settings(DEBUG=True)
def test_load_data_rejects_bad_sizes():
    with pytest.raises(CommandError, match="positive"):
        call_command(
            "generate_load_data", "--projects", "5", "--people", "2", "--deliverables", "1"
        )
