"""Response headers the whole site sends: what browsers and proxies may keep, and
which browser features pages may use; and how a signed-out request is asked to
sign in, htmx's included."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


class SignedInNoStoreMiddleware:
    """Nothing shown to a signed-in person is stored by a browser or a proxy.

    Pages, reviews, CSV exports and API answers hold one person's view of private
    data (evaluations among them): `Cache-Control: private, no-store` on every
    response to a signed-in person, so a shared computer's back button or disk
    cache, or a proxy, keeps none of it. Signed-out pages (the sign-in page) and
    static files (WhiteNoise answers them before this runs) stay cacheable.

    It reads `request.user` after the view: the API authenticates a token inside
    the view (DRF then sets the request's user), so token calls are covered too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = private_no_store(
                response.headers.get("Cache-Control", "")
            )
        return response


# Directives that would let someone keep a copy, or that no-store makes moot.
_REPLACED = {"public", "private", "no-store", "max-age", "s-maxage"}


def private_no_store(cache_control: str) -> str:
    """`private, no-store`, plus whatever else a view asked for (no-cache,
    must-revalidate) that does not contradict it."""
    kept = [
        part.strip()
        for part in cache_control.split(",")
        if part.strip() and part.strip().split("=", 1)[0].strip().lower() not in _REPLACED
    ]
    return ", ".join(["private", "no-store", *kept])


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """`{"camera": []}` -> `camera=()`; `{"fullscreen": ["self"]}` -> `fullscreen=(self)`."""
    return ", ".join(
        f"{feature}=({' '.join(allowed)})" for feature, allowed in sorted(policy.items())
    )


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY as the Permissions-Policy header."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's: every page asks a signed-out person to sign in first. A request
    htmx makes (an inline edit, a section the page fetches) after the session
    ended is answered with `HX-Redirect` to the sign-in page, coming back to the
    page the person was on (htmx's `HX-Current-URL`): following the redirect
    itself, htmx would draw the sign-in page inside the row or section it meant
    to swap, or leave it empty."""

    def handle_no_permission(self, request, view_func):
        # (HtmxMiddleware has set request.htmx by now: process_view runs after every
        # middleware's request phase.)
        if not request.htmx:
            return super().handle_no_permission(request, view_func)
        back_to = request.htmx.current_url_abs_path or request.get_full_path()
        login = redirect_to_login(
            back_to,
            resolve_url(self.get_login_url(view_func)),
            self.get_redirect_field_name(view_func),
        )
        return HttpResponseClientRedirect(login.url)
