from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "mlteam.calendars"
    label = "calendars"
    verbose_name = _("Calendar feeds")

    def ready(self) -> None:
        from mlteam.accounts.services import credentials_withdrawn

        from . import services

        credentials_withdrawn.connect(services.people_feeds_revoke, dispatch_uid="calendar_feeds")
