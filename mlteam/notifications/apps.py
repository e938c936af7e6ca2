from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "mlteam.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from deliverables.mentions import mentions_recorded
        from mlteam.history import history_recorded, history_written

        from . import services

        # The apps announce the history they wrote; webhooks fan out from it once it
        # has committed, the inbox is written with it (in its transaction).
        history_written.connect(services.history_fan_out, dispatch_uid="webhook_fan_out")
        history_recorded.connect(services.inbox_feed_history, dispatch_uid="inbox_feed_history")
        mentions_recorded.connect(services.inbox_feed_mentions, dispatch_uid="inbox_feed_mentions")

        # A person's own chat, for their daily digest (deliverables imports no surface).
        from deliverables.reminders import digest_outlets

        from .personal import DigestChatOutlet

        digest_outlets.register(DigestChatOutlet())
