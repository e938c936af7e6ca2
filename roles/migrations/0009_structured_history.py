"""Team changes keep structured values in `TeamChange.payload`: a project edit's
changes (as the `changes` column had them) and an assignment's allocation (the
`detail` column's "50%" or "50% → 70%"); other detail text stays text.

Every old row reads exactly as before (tests/deliverables/test_history_migration.py).
Reversible.
"""

import re

from django.db import migrations, models

ONE = re.compile(r"(\d+)%")
TWO = re.compile(r"(\d+)% → (\d+)%")
BATCH = 2000


def structured(detail: str, changes: dict | None) -> dict:
    payload = {}
    if changes:
        payload["changes"] = changes
    if (match := ONE.fullmatch(detail)) and f"{int(match[1])}%" == detail:
        payload["allocation"] = int(match[1])
    elif (match := TWO.fullmatch(detail)) and f"{int(match[1])}% → {int(match[2])}%" == detail:
        payload["allocation"] = [int(match[1]), int(match[2])]
    elif detail:
        payload["detail"] = detail
    return payload


def to_payload(apps, schema_editor):
    TeamChange = apps.get_model("roles", "TeamChange")
    changed = []
    rows = TeamChange.objects.exclude(detail="", changes={}).only("detail", "changes")
    for change in rows.order_by("pk").iterator(chunk_size=BATCH):
        change.payload = structured(change.detail, change.changes)
        changed.append(change)
        if len(changed) == BATCH:
            TeamChange.objects.bulk_update(changed, ["payload"])
            changed = []
    TeamChange.objects.bulk_update(changed, ["payload"], batch_size=BATCH)


def to_columns(apps, schema_editor):
    TeamChange = apps.get_model("roles", "TeamChange")
    changed = []
    for change in TeamChange.objects.exclude(payload={}).only("payload").order_by("pk").iterator():
        payload = change.payload
        allocation = payload.get("allocation")
        if isinstance(allocation, list):
            change.detail = "{}% → {}%".format(*allocation)
        elif allocation is not None:
            change.detail = f"{allocation}%"
        else:
            change.detail = payload.get("detail", "")
        change.changes = payload.get("changes") or {}
        changed.append(change)
    TeamChange.objects.bulk_update(changed, ["detail", "changes"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("roles", "0008_team_change_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="teamchange",
            name="payload",
            field=models.JSONField(blank=True, default=dict, verbose_name="details"),
        ),
        migrations.RunPython(to_payload, to_columns, elidable=False),
        migrations.RemoveField(model_name="teamchange", name="changes"),
        migrations.RemoveField(model_name="teamchange", name="detail"),
    ]
