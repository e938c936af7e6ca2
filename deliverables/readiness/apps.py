from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadinessConfig(AppConfig):
    """ML readiness, nested under deliverables: scored rubrics (ML Test Score,
    production readiness reviews). It may import deliverables (and roles), never the
    other way round: it plugs into deliverables' done gate, pages and history through
    `deliverables.extensions`."""

    name = "deliverables.readiness"
    label = "readiness"
    verbose_name = _("Readiness")

    def ready(self) -> None:
        from deliverables import extensions

        from . import hooks

        extensions.done_gates.register(hooks.ReadinessGate())
        extensions.deliverable_panels.register(hooks.RubricPanel())
        extensions.project_panels.register(hooks.ProjectReadinessPanel())
        extensions.portfolio_columns.register(hooks.PortfolioReadinessColumn())
        extensions.history_values.update(hooks.HISTORY_VALUES)
