"""One-off deliverables: a deliverable's own description, types the plan does not
propose, and the free-form "Other" type (owned by the engineering manager's role,
who plans the team's work; admins may move it to another role)."""

from django.db import migrations, models
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
        ('deliverables', '0026_open_status_index'),
        ('roles', '0010_person_choice_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='deliverable',
            name='description',
            field=models.TextField(blank=True, help_text='Optional. What is expected, for work the type does not describe.', verbose_name='description'),
        ),
        migrations.AddField(
            model_name='deliverabletype',
            name='proposed',
            field=models.BooleanField(default=True, help_text="Offered when a project's deliverables are planned from its roles.", verbose_name='proposed in plans'),
        ),
        migrations.RunPython(seed_other, unseed_other),
    ]
