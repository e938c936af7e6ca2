# Reminder settings: the email language may follow the interface language (now
# remembered), and working days are validated.
#
# Data:
# - language "en" was the old default and the settings page could not tell it
#   from a choice, so those rows become "" (same as the interface language).
#   Until the person switches the interface language that still means English.
#   "ja" was always a deliberate choice and stays.
# - working_days "" could only come from the settings page's bug (the boxes were
#   drawn unticked, so any save stored no day); those rows get the default days
#   back, or their owners would never hear from us again.

import deliverables.models
from django.db import migrations, models


OLD_DEFAULT_LANGUAGE = "en"
DEFAULT_WORKING_DAYS = "0,1,2,3,4"


def forwards(apps, schema_editor):
    ReminderPreference = apps.get_model("deliverables", "ReminderPreference")
    ReminderPreference.objects.filter(language=OLD_DEFAULT_LANGUAGE).update(language="")
    ReminderPreference.objects.filter(working_days="").update(working_days=DEFAULT_WORKING_DAYS)


def backwards(apps, schema_editor):
    ReminderPreference = apps.get_model("deliverables", "ReminderPreference")
    ReminderPreference.objects.filter(language="").update(language=OLD_DEFAULT_LANGUAGE)


class Migration(migrations.Migration):

    dependencies = [
        ('deliverables', '0012_handbook_question_events'),
    ]

    operations = [
        migrations.AddField(
            model_name='reminderpreference',
            name='interface_language',
            field=models.CharField(blank=True, choices=[('en', 'English'), ('ja', 'Japanese')], default='', editable=False, max_length=10, verbose_name='interface language'),
        ),
        migrations.AlterField(
            model_name='reminderpreference',
            name='language',
            field=models.CharField(blank=True, choices=[('', 'Same as my interface language'), ('en', 'English'), ('ja', 'Japanese')], default='', help_text='Emails come in this language.', max_length=10, verbose_name='email language'),
        ),
        migrations.AlterField(
            model_name='reminderpreference',
            name='working_days',
            field=models.CharField(blank=True, default='0,1,2,3,4', help_text='Monday is 0.', max_length=20, validators=[deliverables.models.validate_working_days], verbose_name='working days'),
        ),
        migrations.RunPython(forwards, backwards),
    ]
