"""Settings > API tokens: a person's own tokens, created and revoked here."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .forms import TokenCreateForm


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
