from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArtifactsConfig(AppConfig):
    """Live status of ML artifacts that deliverables link to (issue 19, item 3):
    systems an admin connects (MLflow, GitHub, GitLab, Airflow), polled on the
    `polling` queue. Nested under deliverables: it may import deliverables (and
    roles), never the other way round; it adds to the deliverable page, the project
    page, the digests and the chat summary through the registries deliverables
    keeps (`deliverables.extensions`, `deliverables.reminders.digest_sections`)."""

    name = "deliverables.artifacts"
    label = "artifacts"
    verbose_name = _("Artifact status")

    def ready(self) -> None:
        from deliverables import extensions, reminders

        from . import hooks

        extensions.deliverable_panels.register(hooks.ArtifactLinksPanel())
        extensions.project_panels.register(hooks.ProjectArtifactsPanel())
        extensions.work_alerts.register(hooks.RedArtifactAlerts())
        reminders.digest_sections.register(hooks.ArtifactDigestSection())
