"""The token settings page's form (shapes only; the rules are token_create's) and
the sign-in form."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.forms import LoginForm
from allauth.core import context as allauth_context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mlteam.forms import DateField

from . import throttling
from .models import ApiToken, SingleSignOnDomain, TokenScope, email_domain
from .services import LONGEST_EXPIRY


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What uses it, such as “nightly export” or “my laptop”."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text=_("A read-only token can read what you can see, never change it."),
    )
    expires_on = DateField(
        label=_("Expires on"),
        required=False,
        help_text=_("The token stops working at the end of this day. Leave empty for no expiry."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The date picker offers the days token_create accepts (it checks them again).
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + LONGEST_EXPIRY).isoformat(),
            }
        )
        self.fields["name"].widget.attrs.update({"autocomplete": "off"})
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "name",
            Row(Column("scope", css_class="col-sm-6"), Column("expires_on", css_class="col-sm-6")),
            Submit("create", _("Create token")),
        )


class SignInForm(LoginForm):
    """allauth's sign-in form (a username or an email, and the password). A
    single-sign-on-only person's password signs nobody in: an email at such a domain
    is told to use single sign-on before any password is checked; a username whose
    account is at such a domain gets the usual "did not match", right password or
    not, so the answer never confirms a guessed password."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("Username or email")
        self.fields["login"].widget.attrs.pop("placeholder", None)
        self.fields["password"].widget.attrs.pop("placeholder", None)
        self.fields["remember"].label = _("Keep me signed in on this device")
        self.fields["password"].help_text = ""

    def clean(self):
        typed = (self.data.get("login") or "").strip()
        if "@" in typed and SingleSignOnDomain.objects.covering(typed).exists():
            raise forms.ValidationError(
                _(
                    "Accounts with an email at %(domain)s sign in through single sign-on: "
                    "use the button below."
                ),
                code="single_sign_on_only",
                params={"domain": email_domain(typed)},
            )
        cleaned_data = super().clean()
        user = self.user
        if user is not None and SingleSignOnDomain.objects.covering(user.email).exists():
            self.user = None
            raise get_account_adapter().validation_error("username_password_mismatch")
        return cleaned_data


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset request, sending nothing to a single-sign-on-only address
    (the page says the same either way, as it does for unknown addresses)."""

    def get_users(self, email):
        if SingleSignOnDomain.objects.covering(email).exists():
            return iter(())
        return super().get_users(email)


def counted(request, user, check):
    """Run `check` (which raises ValidationError for a wrong password or code) as
    a sign-in attempt for `user`: refused without checking while the account or the
    address is locked out or slowed down (the error says so, and for how long when it
    is seconds), and a failure counted against both in axes' table."""
    credentials = {"username": user.get_username()}
    if throttling.attempt_refused(request=request, credentials=credentials):
        seconds = throttling.slowed_seconds(request)
        if seconds:
            raise forms.ValidationError(
                ngettext(
                    "Too many attempts. Try again in %(count)d second.",
                    "Too many attempts. Try again in %(count)d seconds.",
                    seconds,
                ),
                code="slowed",
                params={"count": seconds},
            )
        raise forms.ValidationError(
            _("Too many attempts. Wait a few minutes, then sign in again."),
            code="locked_out",
        )
    try:
        return check()
    except forms.ValidationError:
        throttling.attempt_record(request=request, credentials=credentials, sender=check)
        raise


class TwoFactorForm(AuthenticateForm):
    """allauth's second-factor step at sign-in, counted like a password (`counted`)."""

    def clean_code(self) -> str:
        return counted(allauth_context.request, self.user, super().clean_code)


class TwoFactorReauthenticateForm(ReauthenticateForm):
    """allauth's "confirm with a code" before a sensitive change, counted too."""

    def clean_code(self) -> str:
        return counted(allauth_context.request, self.user, super().clean_code)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form; a wrong current password is counted like a failed sign-in, so
    a session left open is no way to guess it."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        return counted(self.request, self.user, super().clean_old_password)
