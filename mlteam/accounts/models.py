"""Personal API tokens: a person's named keys to the API (mlteam/api/).

The token itself is shown once, when it is created; only its hash (`digest`) and
its first characters (`token_key`, to find it) are stored, by django-rest-knox.
A revoked token is deleted; an expired one stays listed (knox refuses it, and
deletes it when it is presented) until its owner revokes it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken, AuthTokenManager


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


def usable_condition(now: datetime) -> models.Q:
    """THE usable-token rule: not expired at `now` (revoked tokens are deleted)."""
    return models.Q(expiry__isnull=True) | models.Q(expiry__gt=now)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None) -> ApiTokenQuerySet:
        return self.filter(usable_condition(now or timezone.now()))

    def with_usable(self, now=None) -> ApiTokenQuerySet:
        """Each token with `usable` (the same rule), for lists that show expired ones."""
        return self.annotate(
            usable=models.ExpressionWrapper(
                usable_condition(now or timezone.now()), output_field=models.BooleanField()
            )
        )


class ApiToken(AbstractAuthToken):
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(
        _("scope"), max_length=20, choices=TokenScope.choices, default=TokenScope.READ
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    # knox's manager (create() returns the instance and the token, hashing it).
    objects = AuthTokenManager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created"]
        constraints = [
            # A person tells their tokens apart by name (services.token_create says so
            # first, on the name field; this holds when two creations race).
            models.UniqueConstraint(fields=["user", "name"], name="api_token_name_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"

    def is_expired(self, now=None) -> bool:
        """`ApiTokenQuerySet.usable`'s rule, for a token already read."""
        return self.expiry is not None and self.expiry <= (now or timezone.now())

    @property
    def read_only(self) -> bool:
        return self.scope == TokenScope.READ
