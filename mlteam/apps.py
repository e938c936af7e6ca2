from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MLTeamConfig(AppConfig):
    name = "mlteam"
    verbose_name = _("MLTeam")
