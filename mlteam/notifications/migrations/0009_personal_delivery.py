# Issue 18: a person's own chat and immediate email/chat of inbox kinds; review and
# daily-summary inbox entries (no project).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0008_inbox_purge_schedule'),
        ('reviews', '0004_admins_read_access_log'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='inboxentry',
            name='kind',
            field=models.CharField(choices=[('role_assigned', 'Role assigned'), ('owner_assigned', 'Owner assigned'), ('status_changed', 'Status changed'), ('commented', 'Commented'), ('mentioned', 'Mentioned'), ('expectations', 'Expectations to read'), ('evaluation', 'Evaluation to read'), ('digest', 'Daily summary')], max_length=20, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='inboxentry',
            name='project',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='roles.project', verbose_name='project'),
        ),
        migrations.AddField(
            model_name='inboxentry',
            name='review',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reviews.review', verbose_name='review'),
        ),
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('chat_url', models.URLField(blank=True, max_length=500, verbose_name='chat address')),
                ('chat_added_at', models.DateTimeField(blank=True, null=True, verbose_name='chat address added')),
                ('digest_by', models.CharField(choices=[('email', 'Email'), ('chat', 'Chat'), ('both', 'Email and chat')], default='email', max_length=10, verbose_name='daily digest by')),
                ('event_channels', models.JSONField(blank=True, default=dict, verbose_name='also sent by')),
                ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('person', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preference', to=settings.AUTH_USER_MODEL, verbose_name='person')),
            ],
            options={
                'verbose_name': 'notification preference',
                'verbose_name_plural': 'notification preferences',
                'constraints': [models.CheckConstraint(condition=models.Q(('digest_by', 'email'), models.Q(('chat_url', ''), _negated=True), _connector='OR'), name='notification_chat_needs_address')],
            },
        ),
        migrations.CreateModel(
            name='PersonalDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('event_id', models.CharField(max_length=64, verbose_name='event id')),
                ('event_type', models.CharField(max_length=40, verbose_name='event')),
                ('payload', models.JSONField(default=dict, verbose_name='payload')),
                ('status', models.CharField(choices=[('pending', 'Waiting'), ('sending', 'Being sent'), ('succeeded', 'Delivered'), ('failed', 'Failed, will retry'), ('gave_up', 'Gave up'), ('skipped', 'Not sent')], default='pending', max_length=10, verbose_name='status')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('last_response_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='response code')),
                ('duration_ms', models.PositiveIntegerField(blank=True, null=True, verbose_name='duration (ms)')),
                ('error', models.CharField(blank=True, max_length=500, verbose_name='error')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('channel', models.CharField(choices=[('email', 'Email'), ('chat', 'Chat')], max_length=10, verbose_name='channel')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='person')),
            ],
            options={
                'verbose_name': 'personal delivery',
                'verbose_name_plural': 'personal deliveries',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['status', 'next_attempt_at'], name='personal_delivery_due_idx'), models.Index(fields=['person', '-created_at'], name='personal_delivery_person_idx'), models.Index(fields=['created_at'], name='personal_delivery_created_idx')],
                'constraints': [models.UniqueConstraint(fields=('person', 'channel', 'event_id'), name='personal_delivery_once')],
            },
        ),
    ]
