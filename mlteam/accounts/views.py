"""Settings > API tokens: a person's own tokens, created and revoked here; the
password pages, whose new password revokes the person's tokens and ends their
other sessions (`services.password_set`); Settings > Sessions, where a person
signs out their other sessions, or everywhere; and the page a locked-out sign-in
gets (throttling.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services, throttling
from .devices import device_name
from .forms import PasswordChangeForm, PasswordResetForm, TokenCreateForm


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The list and the create form. A created token's secret is shown on the
    response to that POST and nowhere else: not stored (the session included),
    not cached (no-store), not reachable again by any URL."""
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                token, secret = services.token_create(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                response = render(
                    request,
                    "accounts/token_created.html",
                    {"token": token, "secret": secret},
                    status=201,
                )
                add_never_cache_headers(response)  # no-store, private
                return response
    return render(
        request,
        "accounts/token_list.html",
        {"tokens": selectors.tokens_of(user=request.user), "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, token_key: str) -> HttpResponse:
    """Asks first (GET); revokes on POST. Only the owner's own tokens: any other
    is not found, whoever asks (admins revoke others' in the Django admin)."""
    token = selectors.token_of(user=request.user, token_key=token_key)
    if token is None:
        raise Http404
    if request.method == "POST":
        services.token_revoke(token=token, actor=request.user)
        messages.success(
            request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name}
        )
        return redirect("accounts:token_list")
    return render(request, "accounts/token_revoke.html", {"token": token})


def tokens_revoked_message(revoked: int) -> str:
    return ngettext(
        "Your %(count)d API token was revoked with your old password: it no longer "
        "works. Create a new one in Settings > API tokens if you still need it.",
        "Your %(count)d API tokens were revoked with your old password: they no longer "
        "work. Create new ones in Settings > API tokens if you still need them.",
        revoked,
    ) % {"count": revoked}


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page, saving through `password_set` (the person's tokens and other
    sessions go with their old password); the done page says how many tokens
    were revoked. A wrong current password counts as a failed sign-in."""

    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        session = self.request.session
        kept = session.session_key
        revoked = services.password_set(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            reason=services.RevokeReason.CHANGED,
            keep_session=kept,
        )
        update_session_auth_hash(self.request, form.user)  # this session stays signed in
        services.session_rekey(old=kept, new=session.session_key)  # under a new id
        if revoked:
            messages.warning(self.request, tokens_revoked_message(revoked))
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's page behind the reset link, saving through `password_set`, which
    ends every session of the person (whoever knew the old password is out)."""

    def form_valid(self, form):
        revoked = services.password_set(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            reason=services.RevokeReason.RESET_LINK,
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        if self.post_reset_login:
            auth_login(self.request, form.user, self.post_reset_login_backend)
        if revoked:
            messages.warning(self.request, tokens_revoked_message(revoked))
        return HttpResponseRedirect(self.get_success_url())


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Too many attempts for this account or from this address (AXES_LOCKOUT_CALLABLE,
    and the password reset request below): slowed down for some seconds or locked
    out for some minutes. The same page whether the account exists or not, naming
    neither the account nor the address: 429, with when to try again."""
    seconds = throttling.slowed_seconds(request)
    if seconds:
        context = {"seconds": seconds}
    else:
        minutes = throttling.lockout_minutes(request)
        context, seconds = {"minutes": minutes}, minutes * 60
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's page, counting each request in axes' table per email address typed
    and per client address: past the limit it answers the lockout page instead of
    sending, for an address with an account or without one alike. A
    single-sign-on-only address gets no email (PasswordResetForm), same page."""

    form_class = PasswordResetForm

    def form_valid(self, form):
        credentials = {"email": form.cleaned_data["email"]}
        # Counted first, then judged, as a failed sign-in is: the request that
        # reaches the limit is refused too, and one made while locked out restarts
        # the cool-off.
        if throttling.attempt_record(request=self.request, credentials=credentials, sender=self):
            return locked_out(self.request)
        return super().form_valid(form)


# --- Settings > Sessions ------------------------------------------------------------------


@require_http_methods(["GET"])
def session_list(request: HttpRequest) -> HttpResponse:
    """The person's sessions that are still signed in: device, address, when it
    began and was last used, and which one is this one."""
    sessions = list(selectors.sessions_of(user=request.user))
    current = request.session.session_key
    for session in sessions:
        session.device = device_name(session.user_agent)
        session.is_this = session.session_key == current
    return render(
        request,
        "accounts/session_list.html",
        {"sessions": sessions, "others": sum(not s.is_this for s in sessions)},
    )


@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = services.sessions_end(user_ids=[request.user.pk], keep=request.session.session_key)
    messages.success(
        request,
        ngettext(
            "Signed out %(count)d other session.", "Signed out %(count)d other sessions.", ended
        )
        % {"count": ended}
        if ended
        else _("You had no other sessions."),
    )
    return redirect("accounts:session_list")


@require_POST
def sessions_end_all(request: HttpRequest) -> HttpResponse:
    """Signs the person out everywhere, this browser too, and lands on sign-in."""
    services.sessions_end(user_ids=[request.user.pk])
    logout(request)
    messages.success(request, _("You were signed out everywhere, on this device too."))
    return redirect(settings.LOGOUT_REDIRECT_URL)
