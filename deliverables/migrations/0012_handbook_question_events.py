# Checklist events of handbook questions stored the phrase in the writer's language;
# they now store a code shown in each reader's (see DeliverableEvent._display).

from django.conf import settings
from django.db import migrations
from django.utils import translation

PHRASES = {
    "after": ("added the question: %(text)s", "question-added"),
    "before": ("removed the question: %(text)s", "question-removed"),
}


def to_codes(apps, schema_editor):
    DeliverableEvent = apps.get_model("deliverables", "DeliverableEvent")
    events = DeliverableEvent.objects.filter(kind="checklist")
    for field, (phrase, code) in PHRASES.items():
        prefixes = set()
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                prefixes.add(translation.gettext(phrase).split("%(text)s")[0])
        for prefix in prefixes:
            for event in events.filter(**{f"{field}__startswith": prefix}):
                text = getattr(event, field)[len(prefix) :]
                setattr(event, field, f"{code}: {text}"[:300])
                event.save(update_fields=[field])


class Migration(migrations.Migration):

    dependencies = [
        ("deliverables", "0011_deliverable_due_index"),
    ]

    operations = [
        migrations.RunPython(to_codes, migrations.RunPython.noop),
    ]
