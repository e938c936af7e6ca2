"""Systems that know the live state of linked artifacts, and that state per link.

`ArtifactSystem`: one server an admin connects (kind, API base address, token).
Its token is a secret: stored sealed (encrypted with a key derived from SECRET_KEY),
the admin never shows it back, nothing logs it, and only the HTTP client
(`clients.py`) reads it, to put it in a request header.

`ArtifactState`: per typed link, what the last poll saw (a status and plain
facts such as the alias's version, the CI state, the last DAG run's state and
time), the last error (kind and when), and the polling bookkeeping: when it is
due next and who holds it now (a claim with a lease).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from deliverables.models import DeliverableLink, LinkKind
from mlteam.sealed import seal, unseal

# What the systems' tokens are sealed for (mlteam.sealed; a migration uses it too).
TOKEN_PURPOSE = "artifact-system-token"  # noqa: S105 (a key-derivation label, not a secret)


class SystemKind(models.TextChoices):
    MLFLOW = "mlflow", _("MLflow tracking server")
    GITHUB = "github", _("GitHub")
    GITLAB = "gitlab", _("GitLab")
    AIRFLOW = "airflow", _("Airflow")


# Which system polls which kind of link. Other kinds (W&B runs, dashboards,
# documents) are validated only.
SYSTEM_OF_KIND = {
    LinkKind.MLFLOW_MODEL: SystemKind.MLFLOW,
    LinkKind.MLFLOW_RUN: SystemKind.MLFLOW,
    LinkKind.GITHUB_PR: SystemKind.GITHUB,
    LinkKind.GITHUB_COMMIT: SystemKind.GITHUB,
    LinkKind.GITLAB_MR: SystemKind.GITLAB,
    LinkKind.GITLAB_COMMIT: SystemKind.GITLAB,
    LinkKind.AIRFLOW_DAG_RUN: SystemKind.AIRFLOW,
}
POLLED_KINDS = tuple(SYSTEM_OF_KIND)


class ErrorKind(models.TextChoices):
    UNAUTHORIZED = "unauthorized", _("Refused: the token is missing, wrong or lacks access")
    RATE_LIMITED = "rate_limited", _("Rate limited: waiting until the limit resets")
    TIMEOUT = "timeout", _("No answer in time")
    UNREACHABLE = "unreachable", _("Could not connect")
    NOT_FOUND = "not_found", _("Not found on the system")
    MALFORMED = "malformed", _("Unexpected answer")
    SERVER_ERROR = "server_error", _("The system answered with an error")
    FORBIDDEN_ADDRESS = (
        "forbidden_address",
        _("Not sent: the address leads to a link-local address (such as a cloud metadata service)"),
    )


# How often a system's links may be polled, in minutes: at least once a day.
POLL_MINUTES_RANGE = (1, 1440)


class ArtifactSystem(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=SystemKind.choices)
    name = models.CharField(_("name"), max_length=100)
    base_url = models.URLField(
        _("API base address"),
        max_length=300,
        help_text=_(
            "Where the API answers, e.g. https://api.github.com, https://mlflow.example.com "
            "or https://airflow.example.com."
        ),
    )
    link_host = models.CharField(
        _("host of linked pages"),
        max_length=255,
        blank=True,
        help_text=_(
            "The host in the addresses people link to, e.g. github.com. Links to other "
            "hosts are not polled through this system. Empty: links of this kind on any "
            "host, and MLflow's models:/ and runs:/ addresses."
        ),
    )
    scopes = models.TextField(
        _("polled repositories and names"),
        blank=True,
        help_text=_(
            "One per line: a repository or project path (acme/churn), all of an owner's "
            "or group's (acme/*), an Airflow DAG id or an MLflow model name; * stands for "
            "any characters. Links to anything else are not polled through this system, "
            "so that no one learns through its token the state of a repository they "
            "cannot open. Empty: whatever the token can read."
        ),
    )
    # The token, sealed (mlteam.sealed): read and set through `token`.
    encrypted_token = models.CharField(
        _("token (encrypted)"), max_length=1000, blank=True, editable=False
    )
    active = models.BooleanField(_("active"), default=True)
    poll_minutes = models.PositiveSmallIntegerField(
        _("poll every (minutes)"),
        validators=[
            MinValueValidator(POLL_MINUTES_RANGE[0]),
            MaxValueValidator(POLL_MINUTES_RANGE[1]),
        ],
        default=10,
        help_text=_("How long after a poll each link is polled again (1 to 1440)."),
    )
    # When the system refused for its rate limit: nothing is sent before this.
    backoff_until = models.DateTimeField(_("waiting until"), null=True, blank=True, editable=False)
    last_error = models.CharField(
        _("last error"), max_length=20, choices=ErrorKind.choices, blank=True, editable=False
    )
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("artifact system")
        verbose_name_plural = _("artifact systems")
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    poll_minutes__gte=POLL_MINUTES_RANGE[0], poll_minutes__lte=POLL_MINUTES_RANGE[1]
                ),
                name="artifact_system_poll_minutes_range",
                violation_error_message=_("Poll every 1 to 1440 minutes."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def __repr__(self) -> str:  # never the token
        return f"<ArtifactSystem {self.pk} {self.kind} {self.base_url}>"

    @property
    def token(self) -> str:
        """The token in clear, for the HTTP client's header only; "" when none is set
        or when it cannot be opened any more (SECRET_KEY changed: type it again)."""
        return unseal(TOKEN_PURPOSE, self.encrypted_token) or ""

    @token.setter
    def token(self, value: str) -> None:
        self.encrypted_token = seal(TOKEN_PURPOSE, value or "")

    @property
    def has_token(self) -> bool:
        return bool(self.encrypted_token)

    @property
    def token_refused_over_http(self) -> bool:
        """Whether this system has a token that may not be sent, because its address
        is plain http and ARTIFACT_TOKENS_REQUIRE_HTTPS (production's default) asks
        for https: the token would cross the network in clear. Saving such a system
        is refused; one saved before is polled without its token."""
        return (
            settings.ARTIFACT_TOKENS_REQUIRE_HTTPS
            and self.has_token
            and urlsplit(self.base_url or "").scheme != "https"
        )

    def serves(self, target: dict) -> bool:
        """Whether links to `target` are polled through this system: on its host, and
        within its scopes when it lists some."""
        host = target.get("host", "")
        if self.link_host and host and host.lower() != self.link_host.lower():
            return False
        patterns = scope_patterns(self.scopes)
        if not patterns:
            return True
        name = scope_name(target).lower()
        return bool(name) and any(fnmatchcase(name, pattern) for pattern in patterns)


def scope_patterns(scopes: str) -> list[str]:
    return [line.strip().lower() for line in (scopes or "").splitlines() if line.strip()]


def scope_name(target: dict) -> str:
    """What a system's scopes are matched against: a repository's owner/name, a
    GitLab project's path, a DAG id, a registered model's name ("" for none)."""
    if target.get("owner") and target.get("repo"):
        return f"{target['owner']}/{target['repo']}"
    return str(target.get("project") or target.get("dag_id") or target.get("name") or "")


class ArtifactStatus(models.TextChoices):
    SUCCESS = "success", _("Passing")
    FAILURE = "failure", _("Failing")
    RUNNING = "running", _("In progress")
    UNKNOWN = "unknown", _("Nothing reported")


# The states that put a deliverable in review or done in its owner's digest and in
# its project's chat summary.
RED = (ArtifactStatus.FAILURE,)


class ArtifactStateQuerySet(models.QuerySet):
    def visible_to(self, user) -> ArtifactStateQuerySet:
        """States of links on deliverables `user` may see (Deliverable.visible_to)."""
        from deliverables.models import Deliverable

        return self.filter(link__deliverable__in=Deliverable.objects.visible_to(user).values("pk"))

    def red(self) -> ArtifactStateQuerySet:
        return self.filter(status__in=RED)


class ArtifactState(models.Model):
    link = models.OneToOneField(
        DeliverableLink,
        verbose_name=_("link"),
        on_delete=models.CASCADE,
        related_name="artifact_state",
    )
    system = models.ForeignKey(
        ArtifactSystem,
        verbose_name=_("system"),
        on_delete=models.CASCADE,
        related_name="states",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ArtifactStatus.choices, blank=True
    )
    # Plain facts for display: version, alias, ci, pr_state, sha, run_id, run_state,
    # run_at (ISO), stage... whatever the kind reports.
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    # The MLflow model version the link resolves to (model_version_changed).
    model_version = models.CharField(_("model version"), max_length=40, blank=True)
    observed_at = models.DateTimeField(_("last answer at"), null=True, blank=True)
    changed_at = models.DateTimeField(_("last change at"), null=True, blank=True)
    error = models.CharField(_("last error"), max_length=20, choices=ErrorKind.choices, blank=True)
    error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    next_poll_at = models.DateTimeField(_("next poll at"))
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = ArtifactStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("artifact state")
        verbose_name_plural = _("artifact states")
        ordering = ["link_id"]
        indexes = [
            # The polling sweep (tasks.artifacts_sweep): states due now.
            models.Index(fields=["next_poll_at"], name="artifact_state_due_idx"),
            # Digests and chat summaries: the red states (a small part of all).
            models.Index(
                fields=["status"],
                name="artifact_state_red_idx",
                condition=models.Q(status__in=RED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.link} — {self.get_status_display() or '—'}"
