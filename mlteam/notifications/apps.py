from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "mlteam.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from mlteam.history import history_written

        from . import services

        # The apps announce the history they wrote; webhooks fan out from it.
        history_written.connect(services.history_fan_out, dispatch_uid="webhook_fan_out")
