"""A review's history keeps structured values (`ReviewEvent.payload`) instead of
the "before" and "after" texts, which were composed in the writer's language
(rating labels, "Linked deliverables", the project outcome's label) so that
someone reading in another language saw the writer's words.

Old texts are read back by the labels the old code wrote, in English or
Japanese; a converted row must word back to exactly its old text in the language
it was written in, else it is kept as {"text": ...} and shown as written
(tests/reviews/test_history_migration.py). Reversible: the texts are written
back from the payload, in the language a converted row was written in.
"""

from django.conf import settings
from django.db import migrations, models

BATCH = 2000
RATING_FIELDS = ("quality_code", "quality_documentation", "quality_collaboration", "expectations_met")

# The labels as the old code wrote them, per language. The project outcome's label
# was always English: makemessages never saw it (a gettext call inside an f-string).
LABELS = {
    "en": {
        "ratings": (
            "quality of code",
            "quality of documentation",
            "collaboration",
            "meeting the agreed expectations",
        ),
        "linked": "Linked deliverables",
        "outcome": "Project outcome (context only)",
        "type_title": "{type}: {title}",
    },
    "ja": {
        "ratings": ("コードの品質", "ドキュメントの品質", "協働", "合意した期待事項の達成度"),
        "linked": "関連する成果物",
        "outcome": "Project outcome (context only)",
        "type_title": "{type}：{title}",
    },
}
EXPECTATIONS_KINDS = {"expectations_written", "expectations_changed"}
EVALUATION_KINDS = {"evaluation_saved", "evaluation_shared", "evaluation_changed"}


def _linked_name(value: dict, labels: dict) -> str:
    if "type" not in value:
        return str(value.get("text", ""))
    if not value.get("title"):
        return value["type"]
    return labels["type_title"].format(type=value["type"], title=value["title"])


def flat(value: dict | None) -> str:
    """One side of the payload as the old code worded it (for going back, and to
    check a conversion): in the language the row was written in, else English."""
    if not value:
        return ""
    labels = LABELS[value.get("written_in", "en")]
    if "ratings" in value:
        ratings = value["ratings"]
        lines = [
            f"{label}: {ratings.get(name) or '-'}"
            for name, label in zip(RATING_FIELDS, labels["ratings"], strict=True)
        ]
        lines += ["", value["comment"]]
        if value["outcome"]:
            lines += ["", f"{labels['outcome']}: {value['outcome']}"]
        return "\n".join(lines)
    if "linked" in value:
        titles = sorted(_linked_name(linked, labels) for linked in value["linked"])
        if not titles:
            return value["text"]
        return f"{value['text']}\n\n{labels['linked']}: {'; '.join(titles)}"
    return str(value.get("text", ""))


def _evaluation(text: str, language: str) -> dict | None:
    labels = LABELS[language]
    lines = text.split("\n")
    if len(lines) < 6 or lines[4] != "":
        return None
    ratings = {}
    for name, label, line in zip(RATING_FIELDS, labels["ratings"], lines[:4], strict=False):
        prefix = f"{label}: "
        if not line.startswith(prefix):
            return None
        number = line.removeprefix(prefix)
        if number != "-" and not number.isdigit():
            return None
        ratings[name] = None if number == "-" else int(number)
    comment, marker, outcome = "\n".join(lines[5:]).partition(f"\n\n{labels['outcome']}: ")
    if not outcome:
        comment = comment + marker
    return {"ratings": ratings, "comment": comment, "outcome": outcome}


def _expectations(text: str, language: str) -> dict | None:
    head, marker, tail = text.rpartition(f"\n\n{LABELS[language]['linked']}: ")
    if not marker:
        return None
    return {"text": head, "linked": [{"text": title} for title in tail.split("; ")]}


def structured(kind: str, text: str) -> dict | None:
    """One side of an old entry as the payload keeps it: read back only when it
    words back to exactly the same text, else kept as written."""
    if not text:
        return None
    parse = (
        _expectations
        if kind in EXPECTATIONS_KINDS
        else _evaluation
        if kind in EVALUATION_KINDS
        else None
    )
    for language in LABELS if parse else ():
        value = parse(text, language)
        if value is None:
            continue
        if language != "en":
            value["written_in"] = language
        if flat(value) == text:
            return value
    return {"text": text}


def to_payload(apps, schema_editor):
    Event = apps.get_model("reviews", "ReviewEvent")
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
    Event = apps.get_model("reviews", "ReviewEvent")
    changed = []
    for event in Event.objects.exclude(payload={}).only("payload").order_by("pk").iterator():
        event.before = flat(event.payload.get("before"))
        event.after = flat(event.payload.get("after"))
        changed.append(event)
    Event.objects.bulk_update(changed, ["before", "after"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewevent",
            name="payload",
            field=models.JSONField(blank=True, default=dict, verbose_name="details"),
        ),
        migrations.RunPython(to_payload, to_text, elidable=False),
        migrations.RemoveField(model_name="reviewevent", name="after"),
        migrations.RemoveField(model_name="reviewevent", name="before"),
        migrations.AlterField(
            model_name="reviewevent",
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
