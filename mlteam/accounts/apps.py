"""A person's own account settings: personal API tokens, sign-in, two-factor
authentication and sessions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "mlteam.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from allauth.account.signals import authentication_step_completed
        from django.contrib.auth.signals import user_logged_in

        # The tokens' rate limits and the used two-factor codes need a shared cache
        # (`check --deploy` warnings).
        from mlteam.api import checks  # noqa: F401

        from . import checks as _accounts_checks  # noqa: F401
        from .middleware import session_begin_at_sign_in

        # Every way of signing in (allauth's, Django's login()) ends in this signal:
        # the session policy starts its clocks there (mlteam.accounts.middleware).
        user_logged_in.connect(session_begin_at_sign_in, dispatch_uid="mlteam_session_begin")
        # allauth has no adapter hook for a completed reauthentication; its signal is
        # the one place that every way of reauthenticating (password, code) passes.
        authentication_step_completed.connect(
            rotate_after_reauthentication, dispatch_uid="mlteam_rotate_after_reauthentication"
        )


def rotate_after_reauthentication(sender, request, reauthenticated=False, **kwargs) -> None:
    """Proving who one is again (before a sensitive change) gives the session a
    new id, as signing in does."""
    if reauthenticated and request is not None and request.user.is_authenticated:
        from .services import session_rotate

        session_rotate(request=request)
