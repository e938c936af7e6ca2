from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    """Performance reviews, nested under deliverables: it may import deliverables
    (and roles), never the other way round."""

    name = "deliverables.reviews"
    label = "reviews"
    verbose_name = _("Performance reviews")

    def ready(self) -> None:
        from deliverables.reminders import digest_sections

        from .reminders import ReviewDigestSection

        # Managers' reminder digests mention the reviews they still owe.
        digest_sections.register(ReviewDigestSection())
