from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MLTeamConfig(AppConfig):
    name = "mlteam"
    verbose_name = _("MLTeam")

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        from . import cache

        connection_created.connect(
            lambda sender, connection, **kwargs: cache.install(connection),
            weak=False,
            dispatch_uid="mlteam-cache-generation",
        )
        for connection in connections.all(initialized_only=True):
            cache.install(connection)
