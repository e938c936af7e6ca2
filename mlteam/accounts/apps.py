"""A person's own account settings: personal API tokens (and, later, sign-in,
two-factor authentication and sessions)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "mlteam.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # The tokens' rate limits need a shared cache (a `check --deploy` warning).
        from mlteam.api import checks  # noqa: F401
