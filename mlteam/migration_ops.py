"""Data migrations the apps write alike, as operations that state only their data.

- `AdminsGrant({"app_label": ["codename", ...]})`: the Admins group may do this in
  the Django admin. Forwards it creates the permissions first (a migration may run
  before `post_migrate` has made them) and adds them to the group (creating the
  group if a database lacks it); backwards it removes them again.
- `BeatSchedule(name, task, every=1, period="minutes")`: a Celery beat schedule
  (django-celery-beat, editable in the admin afterwards); backwards, removed.

Migrations import this module by path, so its behaviour must stay what those
migrations were written against: add options rather than change what it does.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

ADMINS = "Admins"


def _create_permissions(apps) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _granted(apps, grants: dict[str, list[str]]):
    condition = Q(pk__in=[])
    for app_label, codenames in grants.items():
        condition |= Q(content_type__app_label=app_label, codename__in=codenames)
    return apps.get_model("auth", "Permission").objects.filter(condition)


class AdminsGrant(migrations.RunPython):
    """RunPython that adds `grants` ({app label: [codename, ...]}) to the Admins
    group, and removes them when the migration is undone."""

    def __init__(self, grants: dict[str, list[str]]):
        self.grants = {label: list(codenames) for label, codenames in grants.items()}
        super().__init__(self._grant, self._revoke)

    def _grant(self, apps, schema_editor) -> None:
        _create_permissions(apps)
        admins, _ = apps.get_model("auth", "Group").objects.get_or_create(name=ADMINS)
        admins.permissions.add(*_granted(apps, self.grants))

    def _revoke(self, apps, schema_editor) -> None:
        admins = apps.get_model("auth", "Group").objects.filter(name=ADMINS).first()
        if admins:
            admins.permissions.remove(*_granted(apps, self.grants))

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.grants], {})

    def describe(self) -> str:
        return "Give the Admins group " + ", ".join(
            f"{label}.{codename}"
            for label, codenames in self.grants.items()
            for codename in codenames
        )


class BeatSchedule(migrations.RunPython):
    """RunPython that schedules `task` as the periodic task `name`, every `every`
    `period` (an IntervalSchedule's period: "minutes", "hours", "days"), unless a
    task of that name exists; undone, the periodic task is removed."""

    def __init__(self, name: str, task: str, *, every: int = 1, period: str = "minutes"):
        self.name, self.task, self.every, self.period = name, task, every, period
        super().__init__(self._schedule, self._unschedule)

    def _schedule(self, apps, schema_editor) -> None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=self.every, period=self.period)
        PeriodicTask.objects.get_or_create(
            name=self.name, defaults={"task": self.task, "interval": interval}
        )

    def _unschedule(self, apps, schema_editor) -> None:
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=self.name).delete()

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [self.name, self.task],
            {"every": self.every, "period": self.period},
        )

    def describe(self) -> str:
        return f"Schedule {self.task} as {self.name!r} every {self.every} {self.period}"
