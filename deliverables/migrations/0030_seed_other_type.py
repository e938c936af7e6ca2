"""The free-form "Other" type for one-off deliverables (owned by the engineering
manager's role, who plans the team's work; admins may move it to another role).
Apart from 0027's schema changes: see there."""

from django.db import migrations
from django.utils.translation import gettext_noop as _

OTHER = {
    "slug": "other",
    "name": _("Other"),
    "description": _(
        "Work no other type describes. Its own title says what it is; its description, "
        "what is expected."
    ),
}


def seed_other(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    if DeliverableType.objects.filter(slug=OTHER["slug"]).exists():
        return
    role = (
        Role.objects.filter(slug="engineering-manager").first()
        or Role.objects.order_by("position", "name").first()
    )
    if role is None:  # no catalogue yet: admins add types with the roles
        return
    DeliverableType.objects.create(
        **OTHER, role=role, proposed=False, default_due_offset_days=30, position=999
    )


def unseed_other(apps, schema_editor):
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    DeliverableType.objects.filter(slug=OTHER["slug"], deliverables__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0029_comment_edit_delete_mentions"),
        ("roles", "0010_person_choice_index"),
    ]

    operations = [migrations.RunPython(seed_other, unseed_other)]
