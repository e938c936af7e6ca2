from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from deliverables import workflow
from deliverables.models import (
    Deliverable,
    DeliverableComment,
    DeliverableEvent,
    DeliverableLink,
    DeliverableStatus,
    EventKind,
)
from deliverables.reviews.models import Review, ReviewEvent, ReviewEventKind
from roles.models import Membership, Project, RoleAssignment, TeamChange, TeamChangeAction
from roles.permissions import is_admin, is_manager

pytestmark = pytest.mark.django_db


def test_seed_demo_refuses_without_debug():
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo")
    assert not Project.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_builds_a_complete_demo_once():
    call_command("seed_demo")
    counts = (
        get_user_model().objects.count(),
        Project.objects.count(),
        RoleAssignment.objects.count(),
        Deliverable.objects.count(),
    )
    call_command("seed_demo")
    assert (
        get_user_model().objects.count(),
        Project.objects.count(),
        RoleAssignment.objects.count(),
        Deliverable.objects.count(),
    ) == counts

    User = get_user_model()
    assert is_admin(User.objects.get(username="admin"))
    assert is_manager(User.objects.get(username="manager"))
    member = User.objects.get(username="member")
    assert not is_manager(member) and member.check_password("mlteam-demo")

    statuses = set(Deliverable.objects.values_list("status", flat=True))
    assert statuses == set(DeliverableStatus.values)
    today = datetime.date.today()
    assert Deliverable.objects.overdue(today).exists()
    assert not Deliverable.objects.filter(status="blocked", blocked_reason="").exists()

    # A project with a gap, and a person holding several roles on one project.
    search = Project.objects.get(name="Search ranking")
    held = set(
        RoleAssignment.objects.filter(membership__project=search).values_list(
            "role__slug", flat=True
        )
    )
    assert {"data-engineer", "devops-engineer"}.isdisjoint(held)
    assert (
        RoleAssignment.objects.filter(
            membership__project__name="Demand forecasting", membership__user=member
        ).count()
        == 3
    )


# --- the demo obeys the product's own rules ----------------------------------------------


@pytest.fixture
def demo(db):
    with override_settings(DEBUG=True):
        call_command("seed_demo")


def test_every_done_deliverable_in_the_demo_meets_the_done_rule(demo):
    """Done needs every required checklist item complete, or a manager's recorded
    override (a reason on the deliverable and an override event by a manager)."""
    done = Deliverable.objects.filter(status=DeliverableStatus.DONE).prefetch_related(
        "checklist_items", "events", "project__managers"
    )
    assert done.count() >= 2
    overridden = 0
    for deliverable in done:
        open_items = [
            item
            for item in deliverable.checklist_items.all()
            if item.required and not item.is_complete
        ]
        if not open_items:
            continue
        overridden += 1
        assert deliverable.done_override_reason.strip(), deliverable.title
        managers = set(deliverable.project.managers.all())
        overrides = [e for e in deliverable.events.all() if e.kind == EventKind.DONE_OVERRIDE]
        assert overrides, deliverable.title
        assert overrides[-1].display_after == deliverable.done_override_reason
        assert overrides[-1].actor in managers, deliverable.title
    # The demo shows both ways to done: a complete checklist, and an override.
    assert 0 < overridden < done.count()


def _status_events(deliverable) -> list:
    """The deliverable's status changes, oldest first."""
    return [
        event
        for event in sorted(deliverable.events.all(), key=lambda e: (e.created_at, e.pk))
        if event.kind == EventKind.STATUS
    ]


def test_every_demo_deliverable_got_where_it_is_through_the_workflow(demo):
    for deliverable in Deliverable.objects.prefetch_related("events", "project__managers"):
        kinds = [event.kind for event in deliverable.events.all()]
        assert kinds.count(EventKind.CREATED) == 1, deliverable.title
        # Its history starts where it began: nothing happened to it before it was planned.
        oldest = min(deliverable.events.all(), key=lambda e: (e.created_at, e.pk))
        assert oldest.kind == EventKind.CREATED, (deliverable.pk, oldest.kind)
        moves = _status_events(deliverable)
        current = DeliverableStatus.NOT_STARTED
        for move in moves:
            step = move.payload["after"]["status"]
            assert move.payload["before"]["status"] == current, deliverable.title
            assert workflow.is_allowed(current, step), (deliverable.title, current, step)
            current = step
        assert current == deliverable.status, deliverable.title
        if deliverable.status == DeliverableStatus.BLOCKED:
            assert deliverable.blocked_reason == moves[-1].payload["after"]["reason"]
        if deliverable.status == DeliverableStatus.DONE:
            assert moves[-1].actor in set(deliverable.project.managers.all())


def test_every_demo_change_is_in_the_history(demo):
    """Team, checklist and review rows each have the event their service records."""
    changes = set(TeamChange.objects.values_list("project_id", "action", "person_id", "role_id"))
    for project in Project.objects.all():
        assert (project.pk, TeamChangeAction.PROJECT_CREATED, None, None) in changes
    for membership in Membership.objects.all():
        assert (
            membership.project_id,
            TeamChangeAction.MEMBER_ADDED,
            membership.user_id,
            None,
        ) in changes
    for assignment in RoleAssignment.objects.select_related("membership"):
        assert (
            assignment.membership.project_id,
            TeamChangeAction.ROLE_ASSIGNED,
            assignment.membership.user_id,
            assignment.role_id,
        ) in changes
    answered = Deliverable.objects.filter(checklist_items__answered_at__isnull=False).distinct()
    assert answered.exists()
    for deliverable in answered:
        assert deliverable.events.filter(kind=EventKind.CHECKLIST).exists(), deliverable.title
    for link in DeliverableLink.objects.all():
        assert link.deliverable.events.filter(
            kind=EventKind.LINK_ADDED, payload__after__url=link.url
        ).exists()
    for comment in DeliverableComment.objects.all():
        assert comment.deliverable.events.filter(kind=EventKind.COMMENT).exists()
    assert Review.objects.exists()
    for review in Review.objects.all():
        kinds = set(review.events.values_list("kind", flat=True))
        assert ReviewEventKind.EXPECTATIONS_WRITTEN in kinds
        if review.expectations_acknowledged_at:
            assert ReviewEventKind.EXPECTATIONS_ACKNOWLEDGED in kinds
        if review.self_assessment:
            assert ReviewEventKind.SELF_ASSESSMENT in kinds
        if review.evaluation_shared_at:
            assert ReviewEventKind.EVALUATION_SHARED in kinds
        if review.evaluation_acknowledged_at:
            assert ReviewEventKind.EVALUATION_ACKNOWLEDGED in kinds


def test_every_demo_deliverable_was_last_changed_when_its_history_says(demo):
    """No write around the services: a deliverable's last update is its last event."""
    for deliverable in Deliverable.objects.prefetch_related("events"):
        last = max(event.created_at for event in deliverable.events.all())
        assert abs(deliverable.updated_at - last) < datetime.timedelta(seconds=5), (
            deliverable.title,
            deliverable.updated_at,
            last,
        )


def test_the_demo_still_has_stale_in_progress_work(demo):
    """One in-progress deliverable nobody has touched for three weeks, for the
    stale nudge in the reminder digest."""
    stale_before = timezone.now() - datetime.timedelta(days=settings.REMINDER_STALE_DAYS)
    stale = Deliverable.objects.filter(
        status=DeliverableStatus.IN_PROGRESS, updated_at__lt=stale_before
    )
    assert stale.count() == 1


@override_settings(DEBUG=True)
def test_seeding_again_records_nothing_new(demo):
    counts = (
        DeliverableEvent.objects.count(),
        TeamChange.objects.count(),
        ReviewEvent.objects.count(),
        DeliverableLink.objects.count(),
        DeliverableComment.objects.count(),
    )
    call_command("seed_demo")
    assert (
        DeliverableEvent.objects.count(),
        TeamChange.objects.count(),
        ReviewEvent.objects.count(),
        DeliverableLink.objects.count(),
        DeliverableComment.objects.count(),
    ) == counts


def test_demo_reviews_happen_on_the_cycle_s_calendar(demo):
    """Expectations are written by the day they are due, evaluations after the
    cycle ends: the review pages read as a real cycle."""
    from deliverables.reviews.models import Review, ReviewEventKind

    reviews = Review.objects.select_related("cycle").prefetch_related("events")
    assert reviews.exists()
    for review in reviews:
        for event in review.events.all():
            day = timezone.localdate(event.created_at)
            if event.kind == ReviewEventKind.EXPECTATIONS_WRITTEN:
                assert day <= review.cycle.expectations_due_on(), (review.pk, day)
            assert day <= timezone.localdate(), (review.pk, event.kind, day)


@override_settings(DEBUG=True)
def test_seeding_again_leaves_a_database_people_have_worked_in_as_it_is(demo, capsys):
    """`make run` seeds at every start: after a project was renamed, a person
    removed, deactivated and anonymised, it starts with the data as it is, instead of
    failing (a deactivated person cannot join a team) or adding the demo again."""
    from mlteam.services import people_deactivate, person_anonymise
    from roles import services as team

    User = get_user_model()
    admin = User.objects.get(username="admin")
    churn = Project.objects.get(name="Churn prediction")
    team.project_update(project=churn, actor=admin, version=churn.version, name="Churn v2")
    chen = Membership.objects.get(project=churn, user__username="chen")
    team.membership_remove(membership=chen, actor=admin, version=None)
    people_deactivate(people=User.objects.filter(username="ben"), actor=admin)
    person_anonymise(user=User.objects.get(username="aiko"), reason="Erasure request")
    counts = (
        User.objects.count(),
        Project.objects.count(),
        Membership.objects.count(),
        TeamChange.objects.count(),
        DeliverableEvent.objects.count(),
    )
    capsys.readouterr()

    call_command("seed_demo")

    assert "left as it is" in capsys.readouterr().out
    assert (
        User.objects.count(),
        Project.objects.count(),
        Membership.objects.count(),
        TeamChange.objects.count(),
        DeliverableEvent.objects.count(),
    ) == counts
    assert not User.objects.filter(username="aiko").exists()  # not created again
    assert not Project.objects.filter(name="Churn prediction").exists()
    assert not Membership.objects.filter(project=churn, user__username="chen").exists()


def test_the_demo_links_artifacts_of_every_kind_and_half_writes_a_model_card(demo):
    """Issue 19's demo: a link of each typed kind (detected from its address), and a
    model card about half answered, linked to the deployed model it describes."""
    from deliverables.cards.models import CardLink
    from deliverables.cards.selectors import completeness_for
    from deliverables.models import LinkKind

    kinds = set(DeliverableLink.objects.values_list("kind", flat=True))
    typed = {
        LinkKind.MLFLOW_MODEL,
        LinkKind.MLFLOW_RUN,
        LinkKind.WANDB_RUN,
        LinkKind.GITHUB_PR,
        LinkKind.GITHUB_COMMIT,
        LinkKind.GITLAB_MR,
        LinkKind.GITLAB_COMMIT,
        LinkKind.AIRFLOW_DAG_RUN,
        LinkKind.DASHBOARD,
    }
    assert typed <= kinds
    card = Deliverable.objects.get(type__slug="model-card")
    link = CardLink.objects.get(card=card)
    assert link.subject.type.slug == "deployed-model" and link.subject.project_id == card.project_id
    assert link.subject.links.filter(kind=LinkKind.MLFLOW_MODEL).exists()
    share = completeness_for([(card.pk, card.type_id)])[card.pk]
    assert 40 <= share.percent <= 60, share
