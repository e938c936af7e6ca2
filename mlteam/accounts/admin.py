"""API tokens in the Django admin: listed and searched by person, revoked (one or
many) through `tokens_revoke`; never added or edited here, and the hash is not shown.
And sign-in: the policy, single-sign-on-only domains and OpenID Connect providers."""

from __future__ import annotations

import re
from importlib import import_module

from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialApp
from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mlteam.forms import WriteOnlySecrets

from . import services
from .models import ApiToken, IdentityProvider, SignInPolicy, SingleSignOnDomain


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "scope", "created", "expiry", "last_used_at", "prefix"]
    list_filter = ["scope", ("expiry", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email", "name"]
    list_select_related = ["user"]
    date_hierarchy = "created"
    fields = ["user", "name", "scope", "prefix", "created", "expiry", "last_used_at"]
    readonly_fields = fields

    @admin.display(description=_("prefix"), ordering="token_key")
    def prefix(self, obj: ApiToken) -> str:
        return f"{obj.token_key}…"

    def has_add_permission(self, request) -> bool:
        return False  # a person creates their own, in Settings, and sees the secret once

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj: ApiToken) -> None:
        services.token_revoke(token=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        services.tokens_revoke(tokens=queryset.select_related("user"), actor=request.user)


# --- Sign-in: policy, single-sign-on-only domains, identity providers ----------------


@admin.register(SignInPolicy)
class SignInPolicyAdmin(admin.ModelAdmin):
    """The one policy row: opened straight from the admin index, never added twice
    nor deleted."""

    fields = ["require_two_factor_for_admins", "require_two_factor_for_managers"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        policy, _created = SignInPolicy.objects.get_or_create(pk=1)
        return HttpResponseRedirect(reverse("admin:accounts_signinpolicy_change", args=[policy.pk]))


@admin.register(SingleSignOnDomain)
class SingleSignOnDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "created_at"]
    search_fields = ["domain"]
    fields = ["domain"]


class IdentityProviderForm(WriteOnlySecrets, forms.ModelForm):
    """An OpenID Connect provider, in the words an admin has from their identity
    provider: the issuer URL and the client's id and secret. Stored as allauth's
    social application (provider "openid_connect", the issuer in its settings)."""

    issuer_url = forms.URLField(
        label=_("Issuer URL"),
        assume_scheme="https",
        help_text=_(
            "The provider's issuer, such as https://login.example.com/realms/main: MLTeam "
            "reads its /.well-known/openid-configuration."
        ),
    )
    allow_new_accounts = forms.BooleanField(
        label=_("Create accounts for new people"),
        required=False,
        help_text=_(
            "When someone whose verified email matches no account signs in, create an "
            "account for them as a member. Otherwise only people who already have an "
            "account with that email can sign in."
        ),
    )

    write_only = ("secret",)

    class Meta:
        model = SocialApp
        fields = ["name", "provider_id", "client_id", "secret"]
        labels = {
            "name": _("Name on the sign-in button"),
            "provider_id": _("Short name"),
            "client_id": _("Client ID"),
            "secret": _("Client secret"),
        }
        help_texts = {
            "name": _("Such as “Company SSO”."),
            "provider_id": _(
                "Letters, digits and hyphens; part of the callback URL "
                "/accounts/oidc/<short name>/login/callback/ to register at the provider."
            ),
            "client_id": "",
            "secret": "",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = self.instance.settings or {}
        self.fields["issuer_url"].initial = settings.get("server_url", "")
        self.fields["allow_new_accounts"].initial = bool(settings.get("allow_new_accounts"))
        self.fields["provider_id"].required = True
        # Never shown again once saved; left empty on a change, the stored one stays.
        self.fields["secret"].widget = forms.PasswordInput(render_value=False)
        self.fields["secret"].required = self.instance.pk is None
        if self.instance.pk is not None:
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")

    def clean_provider_id(self) -> str:
        value = self.cleaned_data["provider_id"].strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
            raise forms.ValidationError(_("Use letters, digits and hyphens only."))
        if (
            self.instance.pk is not None
            and value != self.instance.provider_id
            and self._connected()
        ):
            raise forms.ValidationError(
                _("People have signed in through this provider: its short name cannot change.")
            )
        taken = SocialApp.objects.filter(provider_id=value).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another provider has this short name."))
        return value

    def clean_secret(self) -> str:
        return self.cleaned_data["secret"] or self.instance.secret

    def clean_issuer_url(self) -> str:
        value = self.cleaned_data["issuer_url"].rstrip("/")
        if "/.well-known/" in value:
            value = value.split("/.well-known/")[0]
        stored = (self.instance.settings or {}).get("server_url")
        if self.instance.pk is not None and stored and value != stored and self._connected():
            # People are connected by the old issuer's identifiers: another issuer's
            # same identifier would sign in as them.
            raise forms.ValidationError(
                _(
                    "People have signed in through this provider: its issuer cannot "
                    "change. Add a new provider for the other issuer instead."
                )
            )
        return value

    def _connected(self) -> bool:
        return SocialAccount.objects.filter(provider=self.instance.provider_id).exists()

    def save(self, commit=True):
        app = super().save(commit=False)
        app.provider = "openid_connect"
        app.settings = {
            **(app.settings or {}),
            "server_url": self.cleaned_data["issuer_url"],
            "allow_new_accounts": self.cleaned_data["allow_new_accounts"],
        }
        if commit:
            app.save()
        return app


# allauth's raw form (a JSON settings box, every provider type) gives way to the one
# above; its admin module is loaded first so that there is something to replace.
import_module("allauth.socialaccount.admin")
admin.site.unregister(SocialApp)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ["name", "provider_id", "issuer", "creates_accounts"]
    search_fields = ["name", "provider_id", "client_id"]
    fields = ["name", "provider_id", "issuer_url", "client_id", "secret", "allow_new_accounts"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(provider="openid_connect")

    @admin.display(description=_("Issuer URL"))
    def issuer(self, app: SocialApp) -> str:
        return (app.settings or {}).get("server_url", "")

    @admin.display(description=_("Creates accounts"), boolean=True)
    def creates_accounts(self, app: SocialApp) -> bool:
        return bool((app.settings or {}).get("allow_new_accounts"))


# allauth's admin for second factors shows their stored data; this one shows who has
# which kind, and since when. Removing them is the people admin's "Reset two-factor
# authentication" (services.two_factor_reset).
import_module("allauth.mfa.admin")
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class SecondFactorAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "created_at", "last_used_at"]
    list_filter = ["type", "created_at", "last_used_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "type", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
