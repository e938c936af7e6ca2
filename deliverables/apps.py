from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliverablesConfig(AppConfig):
    name = "deliverables"
    verbose_name = _("Deliverables")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 (registers the system checks)
        from .mentions import MentionDigestSection
        from .middleware import remember_time_zone_at_sign_in
        from .reminders import digest_sections

        # People mentioned in comments hear of it in their next reminder digest.
        digest_sections.register(MentionDigestSection())

        # Sessions carry the person's time zone, so pages activate it without a query.
        user_logged_in.connect(remember_time_zone_at_sign_in, dispatch_uid="time_zone")
