"""A deliverable's history keeps structured values (`DeliverableEvent.payload`)
instead of the "before" and "after" texts, which mixed codes and words
("blocked: <reason>", "question-added: <text>", owner names, ISO dates).

Every old row is converted so that it reads exactly as before, in every language
(tests/deliverables/test_history_migration.py); text the old code showed as is
stays text. Reversible: the texts are written back from the payload.
"""

import re
from datetime import date

from django.conf import settings
from django.db import migrations, models

# The codes as they are at this migration (statuses, kinds), not as the app has them later.
STATUSES = {"not_started", "in_progress", "in_review", "done", "blocked", "cancelled"}
QUESTION_CODES = {"question-added": "added", "question-removed": "removed"}
PROGRESS = re.compile(r"(\d+)/(\d+)")
BATCH = 2000


def structured(kind: str, text: str) -> dict | None:
    """One side of an old entry as the payload keeps it."""
    if not text:
        return None
    if kind == "status":
        code, _sep, reason = text.partition(": ")
        if code in STATUSES:
            return {"status": code, "reason": reason} if reason else {"status": code}
    elif kind == "owner":
        return {"name": text}  # who it was is known only by the name they had then
    elif kind == "type":
        return {"name": text}  # the type's source name, translated when shown
    elif kind == "due_date":
        try:
            return {"date": date.fromisoformat(text).isoformat()}
        except ValueError:
            return {"text": text}  # shown as written
    elif kind == "checklist":
        code, _sep, question = text.partition(": ")
        if code in QUESTION_CODES:
            return {"question": question, "change": QUESTION_CODES[code]}
        match = PROGRESS.fullmatch(text)
        if match and f"{int(match[1])}/{int(match[2])}" == text:
            return {"done": int(match[1]), "total": int(match[2])}
    elif kind in {"link_added", "link_removed"}:
        return {"url": text}
    return {"text": text}


def flat(value: dict | None) -> str:
    """One side of the payload as the old text (for going back)."""
    if not value:
        return ""
    if "status" in value:
        text = f"{value['status']}: {value['reason']}" if value.get("reason") else value["status"]
    elif "question" in value:
        code = {change: code for code, change in QUESTION_CODES.items()}[value["change"]]
        text = f"{code}: {value['question']}"
    elif "done" in value:
        text = f"{value['done']}/{value['total']}"
    else:
        text = next(
            (str(value[key]) for key in ("url", "date", "name", "text") if key in value), ""
        )
    return text[:300]


def to_payload(apps, schema_editor):
    Event = apps.get_model("deliverables", "DeliverableEvent")
    changed = []
    rows = Event.objects.exclude(before="", after="").only("kind", "before", "after")
    for event in rows.order_by("pk").iterator(chunk_size=BATCH):
        sides = {
            side: structured(event.kind, getattr(event, side)) for side in ("before", "after")
        }
        event.payload = {side: value for side, value in sides.items() if value}
        changed.append(event)
        if len(changed) == BATCH:
            Event.objects.bulk_update(changed, ["payload"])
            changed = []
    Event.objects.bulk_update(changed, ["payload"], batch_size=BATCH)


def to_text(apps, schema_editor):
    Event = apps.get_model("deliverables", "DeliverableEvent")
    changed = []
    for event in Event.objects.exclude(payload={}).only("payload").order_by("pk").iterator():
        event.before = flat(event.payload.get("before"))
        event.after = flat(event.payload.get("after"))
        changed.append(event)
    Event.objects.bulk_update(changed, ["before", "after"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0023_remove_open_work"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="deliverableevent",
            name="payload",
            field=models.JSONField(blank=True, default=dict, verbose_name="details"),
        ),
        migrations.RunPython(to_payload, to_text, elidable=False),
        migrations.RemoveField(model_name="deliverableevent", name="after"),
        migrations.RemoveField(model_name="deliverableevent", name="before"),
        migrations.AlterField(
            model_name="deliverableevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by",
            ),
        ),
    ]
