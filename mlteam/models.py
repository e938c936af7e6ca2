from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the heartbeat task.

    Beat schedules the task every minute, so an old `seen_at` tells an admin that
    no worker is consuming the queue.
    """

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    seen_at = models.DateTimeField(_("last seen"))
    beats = models.PositiveBigIntegerField(_("heartbeats"), default=0)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.hostname


class Anonymisation(models.Model):
    """That a person's account was anonymised (`anonymise_person`), by whom, when and
    why. Written in the same transaction as the change; read-only in the admin.

    Holds nothing that identifies the person beyond the account's id: their
    username and names are gone, which is the point.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="anonymisation",
    )
    # Who asked the command to run: the admin account named with --by, if any, and
    # the operating-system login that ran it.
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    operator = models.CharField(_("system login"), max_length=150, blank=True)
    reason = models.TextField(_("reason"))
    # What was changed and what history was kept, as counts (shown in the admin).
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_at = models.DateTimeField(_("anonymised at"), auto_now_add=True)

    class Meta:
        verbose_name = _("anonymisation")
        verbose_name_plural = _("anonymisations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="anonymisation_reason_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.created_at:%Y-%m-%d})"
