"""Personal API tokens: a person's named keys to the API (mlteam/api/).

The token itself is shown once, when it is created; only its hash (`digest`) and
its first characters (`token_key`, to find it) are stored, by django-rest-knox.
A revoked token is deleted; an expired one stays listed (knox refuses it, and
deletes it when it is presented) until its owner revokes it.
"""

from __future__ import annotations

from datetime import datetime

from allauth.socialaccount.models import SocialApp
from django.core.exceptions import ValidationError
from django.core.validators import validate_domain_name
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


# --- Sign-in policy (issue 16; README "Sign-in") ----------------------------------


class SignInPolicy(models.Model):
    """The site's sign-in rules that admins set in the admin: one row (pk 1),
    created with its defaults when first read (`SignInPolicy.current`)."""

    require_two_factor_for_admins = models.BooleanField(
        _("require two-factor authentication for admins"),
        default=False,
        help_text=_(
            "Admins without an authenticator app must set one up at their next sign-in "
            "before they can do anything else."
        ),
    )
    require_two_factor_for_managers = models.BooleanField(
        _("require two-factor authentication for managers"),
        default=False,
        help_text=_(
            "Managers without an authenticator app must set one up at their next sign-in "
            "before they can do anything else."
        ),
    )

    class Meta:
        verbose_name = _("sign-in policy")
        verbose_name_plural = _("sign-in policy")

    def __str__(self) -> str:
        return str(_("Sign-in policy"))

    @classmethod
    def current(cls) -> SignInPolicy:
        """The policy in force: the stored row, or the defaults (unsaved) before an
        admin first saves one; reading it writes nothing."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


def email_domain(email: str) -> str:
    """The part of `email` after its last @, lower-cased ("" for none)."""
    return email.rpartition("@")[2].strip().lower() if "@" in (email or "") else ""


class SingleSignOnDomainQuerySet(models.QuerySet):
    def covering(self, email: str) -> SingleSignOnDomainQuerySet:
        """THE single-sign-on-only rule: the entries that cover `email`'s domain."""
        return self.filter(domain=email_domain(email)) if email_domain(email) else self.none()


class SingleSignOnDomain(models.Model):
    """An email domain whose people must sign in through single sign-on: their
    password neither signs them in nor can be reset."""

    domain = models.CharField(
        _("email domain"),
        max_length=253,
        unique=True,
        help_text=_("Such as example.com: everyone whose email ends in @example.com."),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = SingleSignOnDomainQuerySet.as_manager()

    class Meta:
        verbose_name = _("single-sign-on-only domain")
        verbose_name_plural = _("single-sign-on-only domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        self.domain = (self.domain or "").strip().lower().lstrip("@")
        try:
            validate_domain_name(self.domain)
        except ValidationError:
            raise ValidationError(
                {"domain": _("Enter a domain such as example.com, without a name or @.")}
            ) from None
        if "." not in self.domain:
            raise ValidationError(
                {"domain": _("Enter a domain such as example.com, without a name or @.")}
            )


class IdentityProvider(SocialApp):
    """An OpenID Connect single sign-on provider, as the admin lists them: allauth's
    social application (provider "openid_connect"; the issuer URL and whether it may
    create accounts in its settings)."""

    class Meta:
        proxy = True
        verbose_name = _("single sign-on provider")
        verbose_name_plural = _("single sign-on providers")
