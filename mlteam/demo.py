"""Demo data for `make run`: people, projects, role assignments and deliverables.

Everything is created through the apps' services, as people would through the
pages: projects and teams, a plan, every status move along the workflow (done
only by a manager, with the checklist complete or an override and its reason),
checklist answers, links, comments, the handbook and reviews. So the demo obeys
the product's rules and its history tells how it got there.

The demo is seeded once, into a database without projects: after that the data
is the people's own. `make run` seeds at every start, and a database someone has
worked in (a project renamed, a person removed, deactivated or anonymised, a
restored backup) must start as it is, not be "repaired" back into the demo or
refused by the rules those changes brought (a deactivated person cannot join a
team).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import cycle

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from deliverables import reminders
from deliverables.models import (
    AnswerKind,
    Deliverable,
    DeliverableStatus,
    DeliverableType,
    LinkKind,
)
from deliverables.services import (
    ChecklistAnswer,
    PlannedDeliverable,
    checklist_update,
    comment_add,
    deliverable_create,
    deliverable_transition,
    deliverables_plan,
    link_add,
)
from roles.models import Membership, Project, ProjectStatus, Role, RoleAssignment
from roles.permissions import ADMINS_GROUP, MANAGERS_GROUP, MEMBERS_GROUP
from roles.services import membership_add, project_create, role_assign

DEMO_PASSWORD = "mlteam-demo"  # noqa: S105 (published demo password, DEBUG only)

# username, first name, last name, group
PEOPLE = [
    ("admin", "Ada", "Admin", ADMINS_GROUP),
    ("manager", "Mari", "Kobayashi", MANAGERS_GROUP),
    ("hiro", "Hiro", "Nakamura", MANAGERS_GROUP),
    ("member", "Kenji", "Ito", MEMBERS_GROUP),
    ("aiko", "Aiko", "Tanaka", MEMBERS_GROUP),
    ("ben", "Ben", "Okafor", MEMBERS_GROUP),
    ("chen", "Chen", "Wei", MEMBERS_GROUP),
    ("dana", "Dana", "Ruiz", MEMBERS_GROUP),
]


@dataclass(frozen=True)
class DemoProject:
    name: str
    business_problem: str
    status: str
    started_days_ago: int
    managers: tuple[str, ...]
    # username -> ((role slug, allocation %), ...)
    team: dict[str, tuple[tuple[str, int], ...]]
    # Deliverable types left unplanned, so "Plan deliverables" has something to propose.
    unplanned: tuple[str, ...] = ()
    # Set up this many days ago, with its first piece of work started then and left
    # untouched since (the stale nudge of the reminder digest).
    untouched_days: int | None = None
    # Deliverable types planned, then cancelled by the manager: (type slug, reason).
    cancelled: tuple[tuple[str, str], ...] = ()


PROJECTS = [
    DemoProject(
        name="Churn prediction",
        business_problem=(
            "Spot subscribers likely to cancel in the next 30 days so the retention team "
            "can reach them first."
        ),
        status=ProjectStatus.ACTIVE,
        started_days_ago=70,
        managers=("manager",),
        team={
            "manager": (("engineering-manager", 40),),
            "dana": (("ml-product-manager", 50),),
            "aiko": (("data-scientist", 80),),
            "member": (("ml-engineer", 60),),
            "ben": (("data-engineer", 60),),
            "chen": (("devops-engineer", 50),),
        },
    ),
    DemoProject(
        name="Search ranking",
        business_problem="Rank catalogue search results by predicted relevance to lift conversion.",
        status=ProjectStatus.ACTIVE,
        started_days_ago=25,
        managers=("manager",),
        # No data engineer and no DevOps engineer yet: the coverage gap the demo shows.
        team={
            "manager": (("engineering-manager", 30),),
            "dana": (("ml-product-manager", 50),),
            "chen": (("ml-engineer", 50),),
            "member": (("data-scientist", 30),),
        },
        unplanned=("performance-evaluation", "process-documentation", "deployed-model"),
        untouched_days=21,
    ),
    DemoProject(
        name="Demand forecasting",
        business_problem="Forecast weekly demand per store so replenishment orders match sales.",
        status=ProjectStatus.PLANNING,
        started_days_ago=110,
        managers=("hiro",),
        # A small team: one person holds three roles.
        team={
            "hiro": (("engineering-manager", 30), ("ml-product-manager", 20)),
            "member": (("data-scientist", 10), ("ml-engineer", 20), ("data-engineer", 10)),
            "ben": (("devops-engineer", 20),),
        },
        cancelled=(
            (
                "serving-automation",
                "Forecasts go to the replenishment system as a weekly batch file; no online "
                "serving is needed.",
            ),
        ),
    ),
]

# Statuses handed out in turn so the demo shows every state.
STATUS_CYCLE = [
    DeliverableStatus.DONE,
    DeliverableStatus.IN_PROGRESS,
    DeliverableStatus.IN_REVIEW,
    DeliverableStatus.NOT_STARTED,
    DeliverableStatus.BLOCKED,
    DeliverableStatus.IN_PROGRESS,
    DeliverableStatus.NOT_STARTED,
]
BLOCKED_REASON = "Waiting for access to the production data warehouse."
OVERRIDE_REASON = (
    "Approved for the pilot: the remaining items are tracked as follow-ups in the backlog."
)
# The paths through the workflow to each status, from not started.
PATHS = {
    DeliverableStatus.NOT_STARTED: [],
    DeliverableStatus.IN_PROGRESS: [DeliverableStatus.IN_PROGRESS],
    DeliverableStatus.IN_REVIEW: [DeliverableStatus.IN_PROGRESS, DeliverableStatus.IN_REVIEW],
    DeliverableStatus.BLOCKED: [DeliverableStatus.BLOCKED],
    DeliverableStatus.DONE: [
        DeliverableStatus.IN_PROGRESS,
        DeliverableStatus.IN_REVIEW,
        DeliverableStatus.DONE,
    ],
    DeliverableStatus.CANCELLED: [DeliverableStatus.CANCELLED],
}
# The moves a project's manager makes; the owner makes the others.
MANAGER_STEPS = {DeliverableStatus.DONE, DeliverableStatus.CANCELLED}


def _ensure_people() -> dict[str, object]:
    User = get_user_model()
    people = {}
    for username, first_name, last_name, group_name in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@example.com",
                password=DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
            )
            if username == "admin":
                user.is_staff = True
                user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        user.groups.add(Group.objects.get(name=group_name))
        # Every day from midnight, so the demo's reminder digests show up on the
        # console at the first sweep, whatever the day and hour (validated as the
        # settings page does).
        if not hasattr(user, "reminder_preference"):
            preference = reminders.default_preference(user)
            preference.hour, preference.working_days = 0, "0,1,2,3,4,5,6"
            preference.full_clean()
            preference.save()
        people[username] = user
    return people


def _at(moment: datetime | None):
    """Run the services as if at `moment` (None: now), so the history and the
    deliverables' last change say when it happened."""
    if moment is None:
        return nullcontext()
    # time-machine is pinned in requirements.lock, which every install uses; the
    # demo needs it only to seed a past week, and only here.
    import time_machine

    return time_machine.travel(moment, tick=True)


def _morning(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))


def _ensure_project(spec: DemoProject, people: dict, today: date, statuses, overrides) -> Project:
    """The project, its team and its plan, then each newly planned deliverable moved
    along the workflow to its turn of `statuses`."""
    manager = people[spec.managers[0]]
    back_then = None
    if spec.untouched_days is not None:
        back_then = timezone.make_aware(
            datetime.combine(today - timedelta(days=spec.untouched_days), time(12))
        )
    with _at(back_then):
        project = _ensure_team(spec, people, today)
        planned = _plan(spec, project, people)
    cancelled = dict(spec.cancelled)
    moves = []
    for deliverable in planned:
        # A cancelled one takes its turn too, so the projects after it keep their statuses.
        status = next(statuses)
        if deliverable.type.slug in cancelled:
            status = DeliverableStatus.CANCELLED
        moves.append((deliverable, status))
    untouched = None
    if back_then is not None:
        untouched = next(
            (d for d, status in moves if status == DeliverableStatus.IN_PROGRESS), None
        )
    for deliverable, status in moves:
        # The untouched one was started an hour after it was planned, and never since.
        with _at(back_then + timedelta(hours=1) if deliverable is untouched else None):
            _move(
                deliverable,
                status,
                manager=manager,
                overrides=overrides,
                cancelled_reason=cancelled.get(deliverable.type.slug, ""),
            )
    return project


def _ensure_team(spec: DemoProject, people: dict, today: date) -> Project:
    manager = people[spec.managers[0]]
    project = Project.objects.filter(name=spec.name).first()
    if project is None:
        project = project_create(
            actor=manager,
            name=spec.name,
            business_problem=spec.business_problem,
            status=spec.status,
            managers=[people[name] for name in spec.managers],
            start_date=today - timedelta(days=spec.started_days_ago),
            target_date=today + timedelta(days=180 - spec.started_days_ago),
        )
    roles = {role.slug: role for role in Role.objects.all()}
    for username, holdings in spec.team.items():
        user = people[username]
        membership = Membership.objects.filter(project=project, user=user).first()
        if membership is None:
            membership = membership_add(project=project, user=user, actor=manager)
        for role_slug, allocation in holdings:
            role = roles[role_slug]
            if not RoleAssignment.objects.filter(membership=membership, role=role).exists():
                role_assign(
                    membership=membership,
                    role=role,
                    allocation_percent=allocation,
                    actor=manager,
                )
    return project


def _plan(spec: DemoProject, project: Project, people: dict) -> list[Deliverable]:
    """Plan the standard deliverables of every role held, not planned yet, in one go
    (as the "Plan deliverables" page saves them): the holder owns them, due at the
    type's offset from the project start."""
    roles = {role.slug: role for role in Role.objects.all()}
    types_by_role: dict[int, list[DeliverableType]] = {}
    for deliverable_type in DeliverableType.objects.filter(proposed=True).order_by("position"):
        types_by_role.setdefault(deliverable_type.role_id, []).append(deliverable_type)
    existing = set(project.deliverables.values_list("type_id", flat=True))
    rows = []
    for username, holdings in spec.team.items():
        for role_slug, _allocation in holdings:
            for deliverable_type in types_by_role.get(roles[role_slug].pk, []):
                if deliverable_type.slug in spec.unplanned or deliverable_type.pk in existing:
                    continue
                existing.add(deliverable_type.pk)
                rows.append(
                    PlannedDeliverable(
                        type=deliverable_type,
                        title="",
                        owner=people[username],
                        due_date=project.start_date
                        + timedelta(days=deliverable_type.default_due_offset_days),
                    )
                )
    if not rows:
        return []
    project.refresh_from_db(fields=["version"])
    return deliverables_plan(
        project=project, actor=people[spec.managers[0]], version=project.version, rows=rows
    )


def _move(
    deliverable: Deliverable, status: str, *, manager, overrides, cancelled_reason: str = ""
) -> None:
    """Walk `deliverable` from not started to `status`: the owner does the work and
    sends it for review, the manager approves it (after the owner completed the
    checklist, or with an override when `overrides` says so in its turn), or
    cancels it with `cancelled_reason`."""
    owner = deliverable.owner or manager
    for step in PATHS[status]:
        override = ""
        if step == DeliverableStatus.DONE:
            if next(overrides):
                override = OVERRIDE_REASON
            else:
                _complete_checklist(deliverable, owner)
                _reach_required_score(deliverable, owner)
        reasons = {
            DeliverableStatus.BLOCKED: BLOCKED_REASON,
            DeliverableStatus.CANCELLED: cancelled_reason,
        }
        deliverable_transition(
            deliverable=deliverable,
            actor=manager if step in MANAGER_STEPS else owner,
            to_status=step,
            version=None,
            reason=reasons.get(step, ""),
            override_reason=override,
        )
        if step == DeliverableStatus.IN_REVIEW:
            link_add(
                deliverable=deliverable,
                actor=owner,
                kind=LinkKind.DOCUMENT,
                url=f"https://docs.example.com/{deliverable.project_id}/{deliverable.type.slug}",
                label="Draft for review",
            )
            comment_add(
                deliverable=deliverable,
                actor=owner,
                body="Ready for review: the open questions are listed at the top of the draft.",
            )


def _complete_checklist(deliverable: Deliverable, actor) -> None:
    """Answer every required checklist item, as the owner would on the page."""
    answers = {}
    for item in deliverable.checklist_items.filter(required=True):
        answers[item.pk] = ChecklistAnswer(
            checked=item.answer_kind == AnswerKind.TICK,
            answer=(
                "Written up in the linked document, reviewed with the team."
                if item.answer_kind == AnswerKind.TEXT
                else ""
            ),
            link=(
                f"https://docs.example.com/{deliverable.project_id}/{item.pk}"
                if item.answer_kind == AnswerKind.LINK
                else ""
            ),
        )
    checklist_update(deliverable=deliverable, actor=actor, version=None, answers=answers)


# Half of the team handbook of "Churn prediction" is written.
PROCESS_ANSWERS = {
    "Where does the model's data come from, and how is it produced?": (
        "Nightly export of the billing and support tables into the warehouse; see the "
        "churn_features DAG."
    ),
    "How do we explore, validate and visualise the data?": (
        "Notebooks in the analysis repo; great_expectations suites run before each training."
    ),
    "Which metrics decide whether the model is good enough?": (
        "Recall at 10% contact rate, agreed in the PRD; AUC is tracked but does not gate."
    ),
    "How does a model get released to production?": (
        "Merge to main, the pipeline trains and evaluates, then a manual approval in the registry."
    ),
    "How do we notice that something is wrong with the model?": (
        "Daily drift report and an alert when the predicted churn rate moves more than 3 points."
    ),
    "Which upstream systems does the model depend on?": "Billing, support tickets, product events.",
}


def _answer_handbook(project: Project, actor) -> None:
    from deliverables.models import ChecklistItem
    from deliverables.services import ChecklistAnswer, checklist_update

    handbook = Deliverable.objects.filter(
        project=project, type__slug="process-documentation"
    ).first()
    if handbook is None or handbook.checklist_items.exclude(answer="").exists():
        return
    items = ChecklistItem.objects.filter(deliverable=handbook, text__in=PROCESS_ANSWERS)
    checklist_update(
        deliverable=handbook,
        actor=actor,
        version=None,
        answers={item.pk: ChecklistAnswer(answer=PROCESS_ANSWERS[item.text]) for item in items},
    )


RUBRIC_EVIDENCE = "https://ci.example.com/{project}/{deliverable}/checks/{item}"


def _rubric_mark(deliverable: Deliverable, item, actor, mark: str) -> None:
    from deliverables.readiness import services as readiness

    automated = mark == "automated"
    readiness.rubric_mark_save(
        deliverable=deliverable,
        item=item,
        actor=actor,
        mark=mark,
        evidence_url=RUBRIC_EVIDENCE.format(
            project=deliverable.project_id, deliverable=deliverable.pk, item=item.pk
        )
        if automated
        else "",
        evidence_note="" if automated else "Checked by hand at the last review; notes in the doc.",
        version=None,
    )


def _reach_required_score(deliverable: Deliverable, actor) -> None:
    """A deliverable approved without a waiver first reaches its rubric's score
    (its type's, if it has one): enough items automated in every section."""
    from deliverables.readiness.selectors import rubric_for_type

    rubric = rubric_for_type(deliverable.type_id)
    if rubric is None:
        return
    needed = int(-(-rubric.required_score // 1))  # whole automated items per section
    for section in rubric.sections.all():
        for item in list(section.items.all())[:needed]:
            _rubric_mark(deliverable, item, actor, "automated")


# A deployed model's rubric part way: (section position, automated, by hand) items.
PARTLY_AUTOMATED = [(0, 2, 2), (1, 1, 3), (2, 3, 1), (3, 0, 2)]


def _partly_automated_rubric(projects: list[Project]) -> None:
    """One open deployed model with its rubric part way: some items automated, some
    checked by hand, a few not yet; its score (the lowest section's) below what done
    needs, so its page shows what is missing."""
    from deliverables.readiness.selectors import rubric_for_type

    deliverable = (
        Deliverable.objects.open()
        .filter(project__in=projects, type__slug="deployed-model")
        .select_related("type", "project", "owner")
        .order_by("pk")
        .first()
    )
    rubric = deliverable and rubric_for_type(deliverable.type_id)
    if not rubric:
        return
    actor = deliverable.owner or deliverable.project.managers.first()
    sections = list(rubric.sections.all())
    for position, automated, by_hand in PARTLY_AUTOMATED:
        if position >= len(sections):
            continue
        items = list(sections[position].items.all())
        for item in items[:automated]:
            _rubric_mark(deliverable, item, actor, "automated")
        for item in items[automated : automated + by_hand]:
            _rubric_mark(deliverable, item, actor, "manual")


# Links of every typed kind, on the open deployed model, its data pipeline and its
# serving automation (made-up addresses: with no system connected they only show
# their kind; docs/artifacts.md connects real ones).
ARTIFACT_LINKS = {
    "deployed-model": [
        ("models:/churn-classifier@production", "Production alias"),
        ("models:/churn-classifier/7", "Version under evaluation"),
        ("https://mlflow.example.com/#/experiments/7/runs/4f2a9c0d1e8b4a6c9d3e5f7a1b2c3d4e", ""),
        ("https://wandb.ai/acme/churn/runs/1x2y3z4w", "Tuning sweep"),
        ("https://github.com/acme/churn/pull/42", "Training code review"),
        ("https://github.com/acme/churn/commit/9fceb02d0ae598e95dc970b74767f19372d61af8", ""),
    ],
    "data-pipeline": [
        (
            "https://airflow.example.com/dags/churn_features/grid"
            "?dag_run_id=scheduled__2026-12-01T00:00:00+00:00",
            "Nightly features",
        ),
        ("https://gitlab.com/acme/ml/churn-features/-/merge_requests/17", "Backfill change"),
    ],
    "serving-automation": [
        ("https://gitlab.com/acme/ml/churn-serving/-/commit/9fceb02d", "Canary rollout"),
        ("https://grafana.example.com/d/churn-serving/latency", "Serving dashboard"),
    ],
}


def _artifact_links(projects: list[Project]) -> Deliverable | None:
    """Typed links on the first open model, pipeline and serving work of the demo's
    projects (the kind detected from each address, as the page's form does); the
    deployed model."""
    from deliverables.models import LinkKind

    model = None
    for slug, links in ARTIFACT_LINKS.items():
        deliverable = (
            Deliverable.objects.open()
            .filter(project__in=projects, type__slug=slug)
            .select_related("owner", "project")
            .order_by("project_id", "pk")
            .first()
        )
        if deliverable is None:
            continue
        if slug == "deployed-model":
            model = deliverable
        actor = deliverable.owner or deliverable.project.managers.first()
        for url, label in links:
            kind = LinkKind.DASHBOARD if "grafana" in url else ""
            link_add(deliverable=deliverable, actor=actor, kind=kind, url=url, label=label)
    return model


# The model card of the churn model, half written: (section position, answers to its
# first questions).
CARD_ANSWERS = {
    0: [
        "Ranks current subscribers by their risk of cancelling within 60 days, for the "
        "retention team's weekly call list.",
        "The retention team and account managers use it; subscribers are affected by who "
        "gets a call, never shown a score.",
        "Weekly batch scoring of every active subscription in the EU and US regions.",
    ],
    1: [
        "Pricing, credit or any decision about one customer without a person's review.",
        "Scores drift quickly outside the subscription business: they mean nothing there.",
    ],
    3: [
        "Recall at a 10% contact rate (the PRD's gate), with AUC tracked beside it.",
        "The contact rate is the retention team's weekly capacity; the cut-off follows it.",
        "Bootstrap intervals over five resamples of the hold-out month.",
    ],
    4: [
        "October's hold-out month, not seen in training.",
        "Same features as production; customers who joined in October are left out.",
    ],
    5: [
        "Twelve months of billing, support tickets and product events, refreshed nightly.",
        "Labels: a cancellation within 60 days of the scoring date; trial accounts dropped.",
    ],
}


def _half_written_model_card(project: Project, model: Deliverable | None, people: dict) -> None:
    """A model card for the churn model with about half its questions answered, linked
    to the deployed model it describes."""
    from deliverables.cards import services as cards
    from deliverables.cards.models import CardSection

    card_type = DeliverableType.objects.filter(slug="model-card").first()
    if card_type is None or model is None:
        return
    owner = model.owner or people["member"]
    card = deliverable_create(
        project=project,
        type=card_type,
        title="Churn classifier",
        owner=owner,
        actor=people["manager"],
        due_date=model.due_date,
    )
    cards.card_link_set(deliverable=card, actor=owner, subject=model, version=None)
    sections = list(
        CardSection.objects.filter(template__deliverable_type=card_type)
        .prefetch_related("questions")
        .order_by("position", "pk")
    )
    for position, texts in CARD_ANSWERS.items():
        if position >= len(sections):
            continue
        section = sections[position]
        keys = [str(question.pk) for question in section.questions.all()] or ["section"]
        cards.card_answer_save(
            deliverable=card,
            section=section,
            actor=owner,
            answers=dict(zip(keys, texts, strict=False)),
            version=None,
        )


def demo_seeded() -> bool:
    """Whether the database already has projects, so the demo leaves it alone."""
    return Project.objects.exists()


@transaction.atomic
def demo_seed(*, today: date) -> list[Project]:
    """Seed the demo into a database without projects; otherwise change nothing and
    return the projects there are."""
    if demo_seeded():
        return list(Project.objects.order_by("pk"))
    people = _ensure_people()
    statuses = cycle(STATUS_CYCLE)
    # Approvals alternate: checklist completed first, then an override with its reason.
    overrides = cycle([False, True])
    projects = [_ensure_project(spec, people, today, statuses, overrides) for spec in PROJECTS]
    _answer_handbook(projects[0], people["manager"])
    _handbook_setup(projects[0], people["manager"], today)
    _review_cycles(people, today)
    _partly_automated_rubric(projects)
    model = _artifact_links(projects)
    _half_written_model_card(projects[0], model, people)
    return projects


def _handbook_setup(project: Project, actor, today: date) -> None:
    """A review date already passed (so the flag shows) and one question of the project's own."""
    from deliverables.practices import selectors, services

    if project.handbook_review_on is None:
        services.handbook_review_date_set(
            project=project, actor=actor, review_on=today - timedelta(days=5), version=None
        )
    handbook = selectors.handbook_deliverable(project=project)
    if handbook is not None and not handbook.checklist_items.filter(project_question=True).exists():
        services.handbook_question_add(
            deliverable=handbook,
            actor=actor,
            area="Communication",
            text="Which retention campaigns use the churn scores, and who runs them?",
            answer_kind="text",
            required=False,
        )


def _review_cycles(people: dict, today: date) -> None:
    """Last half-year's cycle with one finished evaluation; the current one with
    expectations set (one acknowledged) and one person still without."""
    from deliverables.reviews import services
    from deliverables.reviews.models import RATING_FIELDS, Review, ReviewCycle

    manager = people["manager"]
    past = ReviewCycle.objects.filter(name="Last half-year").first()
    if past is None:
        past = services.cycle_create(
            actor=manager,
            name="Last half-year",
            start_date=today - timedelta(days=200),
            end_date=today - timedelta(days=20),
            expectations_due_days=14,
        )
    if not Review.objects.filter(cycle=past, person=people["aiko"]).exists():
        # Each step on the day it would have happened, so the review's history reads
        # as a real cycle: expectations early on, the evaluation after the end.
        with _at(_morning(past.start_date + timedelta(days=7))):
            review = services.expectations_write(
                cycle=past,
                person=people["aiko"],
                actor=manager,
                text=(
                    "- Ship the churn **analysis report** with the feature study, "
                    "reviewed by a peer.\n"
                    "- Keep notebooks reproducible: pinned environments, data versions noted.\n"
                    "- Pair with Ben on the label definition before the first training run."
                ),
                deliverables=list(
                    Deliverable.objects.filter(
                        owner=people["aiko"], project__name="Churn prediction"
                    )
                ),
            )
            services.expectations_acknowledge(review=review, actor=people["aiko"], version=None)
        review.refresh_from_db()
        with _at(_morning(past.end_date - timedelta(days=3))):
            services.self_assessment_save(
                review=review,
                actor=people["aiko"],
                version=review.version,
                text="The report landed on time; the label study took longer than planned.",
            )
        review.refresh_from_db()
        with _at(_morning(past.end_date + timedelta(days=2))):
            services.evaluation_save(
                review=review,
                actor=manager,
                version=review.evaluation_version,
                ratings=dict.fromkeys(RATING_FIELDS, 4),
                comment=(
                    "Clear, well-documented analysis; the feature study is now the team's "
                    "reference. Code reviews were thorough and kind."
                ),
                project_outcome="The first model missed the recall target; relaunch planned.",
                share=True,
            )
        review.refresh_from_db()
        with _at(_morning(past.end_date + timedelta(days=3))):
            services.evaluation_acknowledge(
                review=review, actor=people["aiko"], version=review.version
            )

    current = ReviewCycle.objects.filter(name="This half-year").first()
    if current is None:
        current = services.cycle_create(
            actor=manager,
            name="This half-year",
            start_date=today - timedelta(days=20),
            end_date=today + timedelta(days=160),
            expectations_due_days=14,
        )
    for username, acknowledged in (("member", False), ("aiko", True)):
        person = people[username]
        if Review.objects.filter(cycle=current, person=person, manager=manager).exists():
            continue
        # Written on time, five days into the cycle (before expectations were due).
        with _at(_morning(current.start_date + timedelta(days=5))):
            review = services.expectations_write(
                cycle=current,
                person=person,
                actor=manager,
                text=(
                    "1. Own your deliverables end to end: status kept current, checklists ticked.\n"
                    "2. Write down what you learn in the team handbook as you go.\n"
                    "3. Ask for review early; small pull requests."
                ),
                deliverables=list(
                    Deliverable.objects.filter(owner=person, project__managers=manager)[:3]
                ),
            )
            if acknowledged:
                services.expectations_acknowledge(review=review, actor=person, version=None)
