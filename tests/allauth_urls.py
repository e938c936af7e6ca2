"""allauth's URLs alone, for tests/test_oidc_provider_with_allauth.py: imported
only while that test has allauth's apps installed."""

from django.urls import include, path

urlpatterns = [path("accounts/", include("allauth.urls"))]
