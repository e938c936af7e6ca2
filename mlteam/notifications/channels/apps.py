from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "mlteam.notifications.channels"
    label = "chat"
    verbose_name = _("Chat channels")

    def ready(self) -> None:
        from mlteam.history import history_recorded

        from . import services

        # Messages about a change are planned in the transaction that records it (a
        # rollback plans nothing) and handed to a worker once it has committed.
        history_recorded.connect(services.history_feed, dispatch_uid="chat_history_feed")
