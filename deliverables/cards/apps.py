from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    """Model cards and datasheets, nested under deliverables: a template of sections
    per deliverable type, each deliverable's answers, how complete they are, and the
    link to the model or pipeline the card describes. It may import deliverables (and
    roles), never the other way round: it plugs into deliverables' pages and history
    through `deliverables.extensions`."""

    name = "deliverables.cards"
    label = "cards"
    verbose_name = _("Model cards and datasheets")

    def ready(self) -> None:
        from deliverables import extensions
        from deliverables.signals import model_version_changed

        from . import hooks, receivers

        extensions.deliverable_panels.register(hooks.CardPanel())
        extensions.project_panels.register(hooks.ProjectCardsPanel())
        extensions.history_values.update(hooks.HISTORY_VALUES)
        # A deployed model's linked version moved on (the artifact polling): the cards
        # describing it are flagged for review.
        model_version_changed.connect(
            receivers.on_model_version_changed, dispatch_uid="cards.model_version_changed"
        )
