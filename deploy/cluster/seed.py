"""The harness's data set, made through the apps' services in the harness's own
database, and the schedule shortened so that digests, chat messages and webhook
deliveries fall due while the load runs.

    python -m deploy.cluster.seed '<json: projects, members, password, receivers>'

Run by deploy/cluster/harness.py with the cluster's settings (DATABASE_URL straight
to PostgreSQL). Prints one JSON object: who signs in, and which rows each of them
works on.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

ALL_DAYS = "0,1,2,3,4,5,6"


def seed(config: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from deliverables.models import DeliverableType, ReminderPreference
    from deliverables.services import deliverable_create
    from mlteam.notifications.channels.models import ChatChannel, ChatEvent
    from mlteam.notifications.models import WebhookAllowedHost, WebhookEndpoint, WebhookEvent
    from roles.models import Role, RoleAssignment
    from roles.permissions import MANAGERS_GROUP, MEMBERS_GROUP
    from roles.services import member_staff, project_create

    User = get_user_model()
    password = config["password"]
    today = timezone.localdate()
    roles = list(Role.objects.order_by("pk")[:8])
    types = list(DeliverableType.objects.order_by("pk")[:4])
    managers_group = Group.objects.get(name=MANAGERS_GROUP)
    members_group = Group.objects.get(name=MEMBERS_GROUP)

    def person(username: str, group) -> object:
        user = User.objects.create_user(
            username=username,
            email=f"{username}@cluster.example.com",
            password=password,
            first_name=username.split("-")[0].title(),
            last_name=username.split("-", 1)[-1],
        )
        user.groups.add(group)
        # Every day from midnight UTC: each person is owed today's digest at once.
        ReminderPreference.objects.create(
            user=user, hour=0, time_zone="UTC", working_days=ALL_DAYS, due_soon_days=7
        )
        return user

    result: dict = {"projects": []}
    with transaction.atomic():
        WebhookAllowedHost.objects.create(
            host="127.0.0.1", port=config["receiver_port"], note="cluster harness receiver"
        )
        for p in range(config["projects"]):
            manager = person(f"manager-{p}", managers_group)
            project = project_create(name=f"Cluster project {p}", managers=[manager], actor=manager)
            members = []
            for m in range(config["members"]):
                member = person(f"member-{p}-{m}", members_group)
                membership = member_staff(
                    project=project,
                    user=member,
                    role=roles[m % len(roles)],
                    allocation_percent=20,
                    actor=manager,
                )
                work = [
                    deliverable_create(
                        project=project,
                        type=types[(m + n) % len(types)],
                        title=f"Work {p}-{m}-{n}",
                        owner=member,
                        # overdue, due soon, later: each person is owed a digest
                        due_date=today + timedelta(days=(-2, 2, 12)[n]),
                        actor=manager,
                    )
                    for n in range(3)
                ]
                members.append(
                    {
                        "username": member.username,
                        "work": [d.pk for d in work],
                        "assignment": RoleAssignment.objects.get(membership=membership).pk,
                    }
                )
            # Edited by two people at once (the lost-update check).
            contested = deliverable_create(
                project=project,
                type=types[0],
                title=f"Contested {p}",
                owner=None,
                due_date=today + timedelta(days=20),
                actor=manager,
            )
            WebhookEndpoint.objects.create(
                project=project,
                url=f"{config['receiver_url']}/hook/{project.pk}",
                events=[event.value for event in WebhookEvent],
                secret=f"whsec_cluster_{project.pk}",
                created_by=manager,
            )
            ChatChannel.objects.create(
                project=project,
                name=f"#cluster-{p}",
                url=f"{config['receiver_url']}/chat/{project.pk}",
                events=[event.value for event in ChatEvent],
                daily_summary=True,
                hour=0,
                time_zone="UTC",
                working_days=ALL_DAYS,
                created_by=manager,
            )
            result["projects"].append(
                {
                    "id": project.pk,
                    "manager": manager.username,
                    "members": members,
                    "contested": contested.pk,
                }
            )
        # Every sweep (digests, deliveries, chat summaries, heartbeats, catch-ups)
        # every few seconds instead of every minute or hour.
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=config["beat_seconds"], period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.filter(enabled=True).update(interval=interval, crontab=None)
        result["periodic_tasks"] = sorted(
            PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True)
        )
    return result


def main() -> None:
    import django

    django.setup()
    print(json.dumps(seed(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
