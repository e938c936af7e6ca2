from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MLTeamConfig(AppConfig):
    name = "mlteam"
    verbose_name = _("MLTeam")

    def ready(self) -> None:
        from . import cache, signin  # noqa: F401  (signin: its sign-in receivers)

        # The admin writes Django's auth models directly: their changes move the
        # dashboards' cache versions through signals (mlteam/cache.py).
        cache.connect_auth_signals()
        # Request ids carried into Celery tasks; task counts and durations.
        from . import observability

        observability.connect_celery_signals()
