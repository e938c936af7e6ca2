"""Build a large, realistic data set quickly with bulk inserts (for benchmarks)."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from io import StringIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from deliverables.models import (
    ChecklistItem,
    ChecklistItemTemplate,
    Deliverable,
    DeliverableEvent,
    DeliverableStatus,
    DeliverableType,
    status_value,
)
from roles.models import (
    Membership,
    Project,
    ProjectStatus,
    Role,
    RoleAssignment,
    TeamChange,
)
from roles.permissions import MANAGERS_GROUP

STATUS_WEIGHTS = [
    (DeliverableStatus.NOT_STARTED, 30),
    (DeliverableStatus.IN_PROGRESS, 30),
    (DeliverableStatus.IN_REVIEW, 10),
    (DeliverableStatus.DONE, 22),
    (DeliverableStatus.BLOCKED, 5),
    (DeliverableStatus.CANCELLED, 3),
]
MANAGER_MOVES = {DeliverableStatus.DONE, DeliverableStatus.CANCELLED}
REASONS = {
    DeliverableStatus.BLOCKED: "Waiting on another team.",
    DeliverableStatus.CANCELLED: "Dropped from the plan: the project's scope changed.",
}


class Command(BaseCommand):
    help = "Create projects, people, role assignments and deliverables in bulk (load testing)."

    def add_arguments(self, parser):
        parser.add_argument("--projects", type=int, default=200)
        parser.add_argument("--people", type=int, default=2000)
        parser.add_argument("--deliverables", type=int, default=50000)
        parser.add_argument("--seed", type=int, default=7, help="Random seed, for repeatable data.")
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(
        self,
        *args,
        projects: int,
        people: int,
        deliverables: int,
        seed: int,
        force: bool,
        **options,
    ):
        if not settings.DEBUG and not force:
            raise CommandError(
                "generate_load_data fills the database with fake data; use --force with DEBUG off."
            )
        if min(projects, people, deliverables) < 1 or people < projects:
            raise CommandError("Sizes must be positive, with at least as many people as projects.")
        started = timezone.now()
        with transaction.atomic():
            counts = generate(
                projects=projects, people=people, deliverables=deliverables, seed=seed
            )
        seconds = (timezone.now() - started).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                "Created {projects:,} projects, {people:,} people, {assignments:,} role "
                "assignments, {deliverables:,} deliverables, {items:,} checklist items, "
                "{marks:,} readiness marks and {history:,} history entries".format(**counts)
                + f" in {seconds:.1f} s."
            )
        )


def generate(*, projects: int, people: int, deliverables: int, seed: int) -> dict[str, int]:
    """1. people (a tenth of them managers), 2. projects with one manager each,
    3. memberships and role assignments (every role filled on most projects),
    4. deliverables with a spread of statuses and due dates, 5. their checklists,
    copied from the templates in one INSERT ... SELECT, 6. history: the team changes
    that built each team and, per deliverable, its planning and status changes,
    spread over the last months (what activity feeds read)."""
    rng = random.Random(seed)
    today = timezone.localdate()
    batch = f"load{seed}-{timezone.now():%Y%m%d%H%M%S}"
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                username=f"{batch}-{n}",
                email=f"{batch}-{n}@example.com",
                first_name="Load",
                last_name=f"Person {n}",
                password="!",  # noqa: S106 (an unusable password)
            )
            for n in range(people)
        ],
        batch_size=2000,
    )
    persons = list(User.objects.filter(username__startswith=f"{batch}-").order_by("pk"))
    managers = persons[: max(1, people // 10)]
    Group.objects.get(name=MANAGERS_GROUP).user_set.add(*managers)

    Project.objects.bulk_create(
        [
            Project(
                name=f"{batch} project {n}",
                business_problem="Generated for load testing.",
                status=rng.choice(
                    [ProjectStatus.ACTIVE, ProjectStatus.ACTIVE, ProjectStatus.PLANNING]
                ),
                start_date=today - timedelta(days=rng.randint(10, 300)),
            )
            for n in range(projects)
        ],
        batch_size=1000,
    )
    project_rows = list(Project.objects.filter(name__startswith=f"{batch} project").order_by("pk"))
    roles = list(Role.objects.order_by("position"))
    Project.required_roles.through.objects.bulk_create(
        [
            Project.required_roles.through(project_id=p.pk, role_id=r.pk)
            for p in project_rows
            for r in roles
        ],
        batch_size=5000,
    )
    Project.managers.through.objects.bulk_create(
        [
            Project.managers.through(project_id=p.pk, user_id=managers[n % len(managers)].pk)
            for n, p in enumerate(project_rows)
        ]
    )

    # Everyone joins one project; managers also join the projects they manage.
    members: dict[int, list[int]] = {p.pk: [] for p in project_rows}
    for n, person in enumerate(persons):
        members[project_rows[n % projects].pk].append(person.pk)
    for n, project in enumerate(project_rows):
        manager_id = managers[n % len(managers)].pk
        if manager_id not in members[project.pk]:
            members[project.pk].append(manager_id)
    Membership.objects.bulk_create(
        [Membership(project_id=p, user_id=u) for p, users in members.items() for u in users],
        batch_size=5000,
    )
    memberships = {
        (m.project_id, m.user_id): m.pk for m in Membership.objects.filter(project__in=project_rows)
    }
    assignments = []
    holders: dict[tuple[int, int], list[int]] = {}
    for project_id, users in members.items():
        for index, user_id in enumerate(users):
            for role in {roles[index % len(roles)], roles[rng.randrange(len(roles))]}:
                if index >= len(roles) and rng.random() < 0.15:
                    continue  # leave some gaps
                assignments.append(
                    RoleAssignment(
                        membership_id=memberships[(project_id, user_id)],
                        role_id=role.pk,
                        allocation_percent=rng.choice([20, 30, 50, 60, 100]),
                    )
                )
                holders.setdefault((project_id, role.pk), []).append(user_id)
    RoleAssignment.objects.bulk_create(assignments, batch_size=5000, ignore_conflicts=True)

    types = list(DeliverableType.objects.all())
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    rows = []
    first_new = (Deliverable.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for n in range(deliverables):
        project = project_rows[n % projects]
        deliverable_type = types[rng.randrange(len(types))]
        owners = holders.get((project.pk, deliverable_type.role_id)) or members[project.pk]
        status = rng.choices(statuses, weights)[0]
        rows.append(
            Deliverable(
                project=project,
                type=deliverable_type,
                title="" if n % 4 else f"Part {n}",  # most are named by their type
                owner_id=owners[n % len(owners)],
                due_date=today + timedelta(days=rng.randint(-60, 120)),
                status=status,
                blocked_reason=REASONS[status] if status == DeliverableStatus.BLOCKED else "",
                cancelled_reason=REASONS[status] if status == DeliverableStatus.CANCELLED else "",
            )
        )
        if len(rows) == 5000:
            Deliverable.objects.bulk_create(rows)
            rows = []
    Deliverable.objects.bulk_create(rows)

    item, template, deliverable = (
        ChecklistItem._meta.db_table,
        ChecklistItemTemplate._meta.db_table,
        Deliverable._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {item} (deliverable_id, area, text, answer_kind, required, position, "  # noqa: S608
            f"checked, answer, link, project_question) SELECT d.id, t.area, t.text, "
            f"t.answer_kind, t.required, t.position, d.status = %s, '', '', false "
            f"FROM {deliverable} d "
            f"JOIN {template} t ON t.deliverable_type_id = d.type_id WHERE d.id >= %s",
            [DeliverableStatus.DONE.value, first_new],
        )
        items = cursor.rowcount
    marks = _rubric_marks(first_new)
    history = _history(
        rng=rng,
        project_rows=project_rows,
        managers=managers,
        members=members,
        assignments=assignments,
        memberships=memberships,
        first_new=first_new,
    )
    return {
        "projects": projects,
        "people": people,
        "assignments": len(assignments),
        "deliverables": deliverables,
        "items": items,
        "marks": marks,
        "history": history,
    }


def _rubric_marks(first_new: int) -> int:
    """Marks on the readiness rubrics (deliverables.readiness, when installed; read
    through the app registry, as this app may not import it): work under way or
    finished has about two thirds of its items marked, one in three automated, so
    that the scores pages show are summed from real rows."""
    if not apps.is_installed("deliverables.readiness"):
        return 0
    mark = apps.get_model("readiness", "RubricMark")._meta.db_table
    item = apps.get_model("readiness", "RubricItem")._meta.db_table
    section = apps.get_model("readiness", "RubricSection")._meta.db_table
    rubric = apps.get_model("readiness", "Rubric")._meta.db_table
    deliverable = Deliverable._meta.db_table
    started = [
        status.value
        for status in (
            DeliverableStatus.IN_PROGRESS,
            DeliverableStatus.IN_REVIEW,
            DeliverableStatus.DONE,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {mark} (deliverable_id, item_id, mark, evidence_url, evidence_note, "  # noqa: S608
            f"marked_at, version) SELECT d.id, i.id, "
            f"CASE WHEN (d.id + i.id) %% 3 = 0 THEN 'automated' ELSE 'manual' END, "
            f"'https://ci.example.com/runs/' || d.id, '', CURRENT_TIMESTAMP, 1 "
            f"FROM {deliverable} d JOIN {rubric} r ON r.deliverable_type_id = d.type_id "
            f"JOIN {section} s ON s.rubric_id = r.id JOIN {item} i ON i.section_id = s.id "
            f"WHERE d.id >= %s AND d.status IN ({', '.join(['%s'] * len(started))}) "
            f"AND (d.id + i.id) %% 3 <> 1",
            [first_new, *started],
        )
        marked = cursor.rowcount
    # Their scores, as the services keep them (the app's own command).
    call_command("rescore_readiness", stdout=StringIO())
    return marked


def _history(*, rng, project_rows, managers, members, assignments, memberships, first_new):
    """Team changes and deliverable events with past timestamps (written with
    executemany: `auto_now_add` would stamp every row with the same moment)."""
    now = timezone.now()
    manager_of = {p.pk: managers[n % len(managers)].pk for n, p in enumerate(project_rows)}
    membership_key = {pk: key for key, pk in memberships.items()}

    def past(days: int):
        moment = now - timedelta(minutes=rng.randint(1, days * 24 * 60))
        return connection.ops.adapt_datetimefield_value(moment)

    team = [
        (project_id, manager_of[project_id], "member_added", user_id, None, past(300))
        for project_id, users in members.items()
        for user_id in users
    ]
    team += [
        (
            membership_key[a.membership_id][0],
            manager_of[membership_key[a.membership_id][0]],
            "role_assigned",
            membership_key[a.membership_id][1],
            a.role_id,
            past(300),
        )
        for a in assignments
    ]
    work = []
    status_payloads: dict[str, str] = {}  # the same few payloads, as JSON text
    for pk, project_id, owner_id, status in (
        Deliverable.objects.filter(pk__gte=first_new)
        .values_list("pk", "project_id", "owner_id", "status")
        .iterator(chunk_size=5000)
    ):
        work.append((pk, project_id, manager_of[project_id], "created", "{}", past(120)))
        if status != DeliverableStatus.NOT_STARTED:
            # Approving and cancelling are the project's manager's moves.
            actor = manager_of[project_id] if status in MANAGER_MOVES else owner_id
            payload = status_payloads.get(status)
            if payload is None:
                payload = status_payloads[status] = json.dumps(
                    {
                        "before": status_value(DeliverableStatus.NOT_STARTED),
                        "after": status_value(status, REASONS.get(status, "")),
                    }
                )
            work.append((pk, project_id, actor, "status", payload, past(60)))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TeamChange._meta.db_table} "  # noqa: S608
            "(project_id, actor_id, action, person_id, role_id, payload, created_at) "
            "VALUES (%s, %s, %s, %s, %s, '{}', %s)",
            team,
        )
        cursor.executemany(
            f"INSERT INTO {DeliverableEvent._meta.db_table} "  # noqa: S608
            "(deliverable_id, project_id, actor_id, kind, payload, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            work,
        )
    return len(team) + len(work)
