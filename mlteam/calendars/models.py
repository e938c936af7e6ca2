"""Calendar feeds: a secret iCalendar address per person, for their own open
work (and the review cycles that concern them), or for one project's team.

Only a hash of the secret is kept (`digest`): the address is shown once, when it
is issued, and a new one replaces it. What a feed lists is decided when it is
read, through the apps' visibility querysets (mlteam.calendars.selectors), so a
person who loses access to a project stops seeing its work in every feed.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from roles.models import Project


def secret_digest(secret: str) -> str:
    """The stored form of a feed's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class CalendarFeed(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    # None: the person's own work across projects.
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    digest = models.CharField(_("secret (hashed)"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("address issued at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["person", "project__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "project"], name="calendarfeed_one_per_project"
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(project__isnull=True),
                name="calendarfeed_one_personal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.project or _('my work')}"
