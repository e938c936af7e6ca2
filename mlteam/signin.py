"""Sign-in, put together (issue 16; README "Sign-in"): django-allauth's adapters and
the middleware that makes the people who must use two factors enrol first.

A site module (tests/test_layering.py): it reads who is an admin or a manager
(roles.permissions) and the person's remembered language (deliverables), which the
account helpers below it may not import.

- Nobody signs up with a password: people are invited (roles.services). A single
  sign-on provider may create accounts when its admin settings allow it
  (`allow_new_accounts`), for people whose email the provider has verified.
- A provider's verified email signs in the account that has that email; an
  unverified one signs in nobody who is not already connected to that provider.
- People whose email domain is single-sign-on-only cannot sign in with a password
  (mlteam.accounts.forms.SignInForm) nor reset one (mlteam.accounts.views).
"""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account import views as allauth_views
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deliverables import reminders
from deliverables import services as deliverables_services
from mlteam.accounts.models import IdentityProvider, SignInPolicy
from roles.permissions import is_admin, is_manager


def remember_language(request: HttpRequest, user, response: HttpResponse) -> None:
    """Reconcile the browser's interface language with the person's remembered one:
    a language chosen on this browser (on the sign-in page, say) is remembered; a
    browser without one (a new browser) starts in the remembered language."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen and deliverables_services.interface_language_remember(user=user, language=chosen):
        return
    remembered = reminders.preference_for(user).interface_language
    if remembered:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            remembered,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )


_MISMATCH = gettext_lazy("Your username or email and password did not match. Please try again.")


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": _MISMATCH,
        "username_password_mismatch": _MISMATCH,
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # invitations only (a provider may open it: SocialAccountAdapter)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before two-factor changes; a person
        who signed in (password, and second factor if any) within the last few
        minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT) has just given it."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = self.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        limit = time.time() - account_settings.REAUTHENTICATION_TIMEOUT
        return not any(record.get("at", 0) >= limit for record in records)

    def post_login(self, request, user, **kwargs) -> HttpResponse:
        response = super().post_login(request, user, **kwargs)
        remember_language(request, user, response)
        return response


def _allows_new_accounts(sociallogin) -> bool:
    app = sociallogin.provider.app
    return bool(app is not None and app.settings.get("allow_new_accounts"))


def _refuse(request: HttpRequest, message: str) -> None:
    response = render(request, "account/sso_refused.html", {"message": message}, status=403)
    raise ImmediateHttpResponse(response)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        """Refuse, before anything is saved, a person the provider has not verified:
        an account already connected to this provider signs in by the provider's
        own identifier; anyone else needs a verified email."""
        if sociallogin.is_existing:
            if not sociallogin.user.is_active:
                _refuse(request, _("This account is deactivated. Ask an admin to reactivate it."))
            return
        if not any(address.verified for address in sociallogin.email_addresses):
            _refuse(
                request,
                _(
                    "Your identity provider did not confirm your email address, so MLTeam "
                    "cannot tell which account is yours. Ask your identity provider's "
                    "admin to verify your email, then try again."
                ),
            )

    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        if _allows_new_accounts(sociallogin):
            return True
        _refuse(
            request,
            _(
                "No MLTeam account has the email address your identity provider gave, "
                "and this provider may not create accounts. Ask an admin to invite you "
                "with that address."
            ),
        )
        return False  # not reached

    def populate_user(self, request: HttpRequest, sociallogin, data):
        """The username: the provider's preferred one, else the email's name part;
        allauth makes it unique."""
        user = super().populate_user(request, sociallogin, data)
        if not user.username:
            user.username = (user.email or "").partition("@")[0]
        return user


def two_factor_required(user) -> bool:
    """Whether the sign-in policy requires `user` to use two factors."""
    if not (user.is_authenticated and user.is_active):
        return False
    policy = SignInPolicy.current()
    if policy.require_two_factor_for_admins and (is_admin(user) or user.is_staff):
        return True
    return bool(policy.require_two_factor_for_managers and is_manager(user))


def has_two_factors(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# Set in the session at sign-in when the policy requires two factors of a person who
# has none; cleared by the middleware once they have set up their authenticator app.
ENROLMENT_DUE = "mlteam_two_factor_due"


@receiver(user_logged_in)
def _note_enrolment_due(sender, request, user, **kwargs) -> None:
    """At every sign-in (password, single sign-on, invitation), whatever the way."""
    if request is None or not hasattr(request, "session"):
        return
    if two_factor_required(user) and not has_two_factors(user):
        request.session[ENROLMENT_DUE] = True
    else:
        request.session.pop(ENROLMENT_DUE, None)


def _second_factor_cipher() -> Fernet:
    """Second-factor secrets (an authenticator app's key, the recovery codes' seed)
    are stored encrypted with a key derived from SECRET_KEY, so a database copy or
    an admin page never shows a usable one. Changing SECRET_KEY makes everyone set
    up their app again (an admin resets them)."""
    digest = hashlib.sha256(b"mlteam.second-factor:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return _second_factor_cipher().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        try:
            return _second_factor_cipher().decrypt(encrypted_text.encode()).decode()
        except InvalidToken:
            return encrypted_text  # stored before encryption (none in production)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """A person the policy requires to use two factors keeps their app (an admin
        may still reset it, in the admin)."""
        if authenticator.type == Authenticator.Type.TOTP and two_factor_required(
            authenticator.user
        ):
            return False
        return super().can_delete_authenticator(authenticator)


class RequireTwoFactorMiddleware:
    """A person who signed in while the sign-in policy requires them to use two
    factors, and who has no authenticator app yet, is sent to set one up; until
    then only that page, the pages it needs (reauthentication, recovery codes),
    sign-out and the language switch answer. Reads only the session, but while
    enrolment is due (one query then: has it been done?)."""

    # URL names that stay open while enrolment is due.
    OPEN = frozenset(
        {
            "mfa_index",
            "mfa_activate_totp",
            "mfa_view_recovery_codes",
            "mfa_generate_recovery_codes",
            "mfa_download_recovery_codes",
            "account_reauthenticate",
            "account_logout",
            "logout",
            "set_language",
        }
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(ENROLMENT_DUE) and request.user.is_authenticated:
            if has_two_factors(request.user):
                del session[ENROLMENT_DUE]
            else:
                match = _resolve(request.path_info)
                if match is None or match.url_name not in self.OPEN:
                    return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def _resolve(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None


def provider_origins() -> list[str]:
    """The origins of the configured single sign-on providers (their issuers)."""
    origins = set()
    for app in IdentityProvider.objects.filter(provider="openid_connect").only("settings"):
        parts = urlsplit((app.settings or {}).get("server_url", ""))
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


@login_not_required
def sign_in(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """allauth's sign-in page. Its single sign-on buttons post to MLTeam, which
    answers with a redirect to the provider: the page's Content-Security-Policy
    lets those forms lead to the configured providers (form-action), and nowhere
    else."""
    response = allauth_views.login(request, *args, **kwargs)
    origins = provider_origins()
    if origins:
        response._csp_update = {"form-action": origins}
    return response


@login_not_required
def admin_sign_in(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The Django admin's sign-in (admin.site.login), which checks no password: the
    admin signs in through the product's sign-in, second factor and single sign-on
    rules included. Signed-in staff go to the admin, other signed-in people are
    refused, everyone else is sent to sign in."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect("admin:index")
        raise PermissionDenied
    return redirect_to_login(next_url, reverse("login"))
