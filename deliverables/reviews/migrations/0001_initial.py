"""The review models, taken over from deliverables (`deliverables.0022`) with
their tables, constraints and indexes as they are: state only, no row moves.

Their content types are renamed to this app, so the permissions attached to
them (the Admins group's "view review", "change review cycle" and so on) and
the admin's history stay attached.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["reviewcycle", "review", "reviewevent", "reviewreminder"]


def _move_content_types(apps, source: str, target: str) -> None:
    """Rename the moved models' content types from `source` to `target`. A row
    already under `target` (a content type created meanwhile, with no rows of
    its own yet) gives way to the one carrying the permissions."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        ContentType.objects.filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def content_types_to_reviews(apps, schema_editor) -> None:
    _move_content_types(apps, "deliverables", "reviews")


def content_types_to_deliverables(apps, schema_editor) -> None:
    _move_content_types(apps, "reviews", "deliverables")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('deliverables', '0022_reviews_move_to_own_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReviewCycle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name')),
                        ('start_date', models.DateField(verbose_name='start date')),
                        ('end_date', models.DateField(verbose_name='end date')),
                        ('expectations_due_days', models.PositiveSmallIntegerField(default=14, help_text="A person still without expectations this many days into the cycle is mentioned in their manager's reminder digest.", validators=[django.core.validators.MaxValueValidator(365)], verbose_name='expectations due after (days)')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ],
                    options={
                        'verbose_name': 'review cycle',
                        'verbose_name_plural': 'review cycles',
                        'db_table': 'deliverables_reviewcycle',
                        'ordering': ['-start_date', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='Review',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('expectations', models.TextField(verbose_name='expectations')),
                        ('expectations_set_at', models.DateTimeField(verbose_name='expectations written at')),
                        ('expectations_acknowledged_at', models.DateTimeField(blank=True, null=True, verbose_name='expectations acknowledged at')),
                        ('quality_code', models.PositiveSmallIntegerField(blank=True, choices=[(1, '1 - well below expectations'), (2, '2 - below expectations'), (3, '3 - meets expectations'), (4, '4 - above expectations'), (5, '5 - well above expectations')], null=True, verbose_name='quality of code')),
                        ('quality_documentation', models.PositiveSmallIntegerField(blank=True, choices=[(1, '1 - well below expectations'), (2, '2 - below expectations'), (3, '3 - meets expectations'), (4, '4 - above expectations'), (5, '5 - well above expectations')], null=True, verbose_name='quality of documentation')),
                        ('quality_collaboration', models.PositiveSmallIntegerField(blank=True, choices=[(1, '1 - well below expectations'), (2, '2 - below expectations'), (3, '3 - meets expectations'), (4, '4 - above expectations'), (5, '5 - well above expectations')], null=True, verbose_name='collaboration')),
                        ('expectations_met', models.PositiveSmallIntegerField(blank=True, choices=[(1, '1 - well below expectations'), (2, '2 - below expectations'), (3, '3 - meets expectations'), (4, '4 - above expectations'), (5, '5 - well above expectations')], null=True, verbose_name='meeting the agreed expectations')),
                        ('evaluation_comment', models.TextField(blank=True, verbose_name='evaluation')),
                        ('project_outcome', models.TextField(blank=True, verbose_name='project outcome (context only)')),
                        ('evaluation_written_at', models.DateTimeField(blank=True, null=True, verbose_name='evaluation written at')),
                        ('evaluation_shared_at', models.DateTimeField(blank=True, null=True, verbose_name='evaluation shared at')),
                        ('self_assessment', models.TextField(blank=True, verbose_name='self-assessment')),
                        ('self_assessment_at', models.DateTimeField(blank=True, null=True, verbose_name='self-assessment written at')),
                        ('evaluation_acknowledged_at', models.DateTimeField(blank=True, null=True, verbose_name='evaluation acknowledged at')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('evaluation_version', models.PositiveIntegerField(default=1, verbose_name='evaluation version')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('deliverables', models.ManyToManyField(blank=True, db_table='deliverables_review_deliverables', related_name='+', to='deliverables.deliverable', verbose_name='linked deliverables')),
                        ('manager', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reviews_written', to=settings.AUTH_USER_MODEL, verbose_name='manager')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews_received', to=settings.AUTH_USER_MODEL, verbose_name='person')),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='reviews.reviewcycle', verbose_name='cycle')),
                    ],
                    options={
                        'verbose_name': 'review',
                        'verbose_name_plural': 'reviews',
                        'db_table': 'deliverables_review',
                        'ordering': ['cycle', 'person__username', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('expectations_written', 'wrote the expectations'), ('expectations_changed', 'changed the expectations'), ('expectations_acknowledged', 'acknowledged the expectations'), ('evaluation_saved', 'saved the evaluation as a draft'), ('evaluation_shared', 'shared the evaluation'), ('evaluation_changed', 'changed the shared evaluation'), ('self_assessment', 'wrote the self-assessment'), ('evaluation_acknowledged', 'acknowledged the evaluation')], max_length=30, verbose_name='change')),
                        ('before', models.TextField(blank=True, verbose_name='before')),
                        ('after', models.TextField(blank=True, verbose_name='after')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='when')),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                        ('review', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='reviews.review', verbose_name='review')),
                    ],
                    options={
                        'verbose_name': 'review change',
                        'verbose_name_plural': 'review changes',
                        'db_table': 'deliverables_reviewevent',
                        'ordering': ['-created_at', '-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewReminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('expectations_missing', 'No expectations yet'), ('evaluation_missing', 'No evaluation yet')], max_length=30, verbose_name='kind')),
                        ('local_date', models.DateField(verbose_name="day (recipient's time)")),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='reviews.reviewcycle', verbose_name='cycle')),
                        ('digest', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='review_reminders', to='deliverables.digest', verbose_name='digest')),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='person')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
                    ],
                    options={
                        'verbose_name': 'review reminder',
                        'verbose_name_plural': 'review reminders',
                        'db_table': 'deliverables_reviewreminder',
                        'ordering': ['-local_date', 'kind'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='reviewcycle',
                    constraint=models.CheckConstraint(condition=models.Q(('end_date__gte', models.F('start_date'))), name='reviewcycle_end_after_start', violation_error_message='The cycle cannot end before it starts.'),
                ),
                migrations.AddConstraint(
                    model_name='review',
                    constraint=models.UniqueConstraint(fields=('cycle', 'person', 'manager'), name='review_one_per_cycle_person_manager', violation_error_message='You already wrote expectations for this person in this cycle.'),
                ),
                migrations.AddConstraint(
                    model_name='review',
                    constraint=models.CheckConstraint(condition=models.Q(('person', models.F('manager')), _negated=True), name='review_not_of_oneself', violation_error_message='Managers do not review themselves.'),
                ),
                migrations.AddConstraint(
                    model_name='reviewreminder',
                    constraint=models.UniqueConstraint(fields=('cycle', 'recipient', 'person', 'kind', 'local_date'), name='review_reminder_once_per_day'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_reviews, content_types_to_deliverables),
    ]
