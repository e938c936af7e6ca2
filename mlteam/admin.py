from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import WorkerHeartbeat

admin.site.site_header = _("MLTeam administration")
admin.site.site_title = _("MLTeam administration")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at", "beats"]
    search_fields = ["hostname"]
    readonly_fields = ["hostname", "seen_at", "beats"]
