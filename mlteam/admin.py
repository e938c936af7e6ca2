from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from .models import WorkerHeartbeat

admin.site.site_header = _("MLTeam administration")
admin.site.site_title = _("MLTeam administration")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at", "beats"]
    search_fields = ["hostname"]
    readonly_fields = ["hostname", "seen_at", "beats"]


class ScheduledTaskForm(PeriodicTaskForm):
    """django-celery-beat's form, with a saved task that the worker registers drawn
    as chosen in "Task (registered)" (upstream leaves that list blank and shows the
    name only under "Task (custom)")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        registered = {value for value, _label in self.fields["regtask"].widget.choices if value}
        if self.instance.pk and self.instance.task in registered:
            self.initial.setdefault("regtask", self.instance.task)
            self.initial["task"] = ""


class ScheduledTaskAdmin(PeriodicTaskAdmin):
    form = ScheduledTaskForm


admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, ScheduledTaskAdmin)
