from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliverablesConfig(AppConfig):
    name = "deliverables"
    verbose_name = _("Deliverables")

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the system checks)
