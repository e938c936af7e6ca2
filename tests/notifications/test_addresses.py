"""Webhook addresses: refused when they lead to loopback, private, link-local or
metadata addresses (unless an admin allows the host), at save time and again when sent."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from mlteam.notifications import services
from mlteam.notifications.addresses import UnsafeAddress, check_url, is_forbidden_address
from mlteam.notifications.models import DeliveryStatus, WebhookAllowedHost, WebhookDelivery
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://localhost/hook",
    ],
)
def test_loopback_private_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(UnsafeAddress) as refused:
        check_url(url)
    assert refused.value.code == "forbidden_address"


def test_a_public_address_is_accepted_and_pinned():
    target = check_url("http://93.184.215.14:8080/hooks/in?x=1")
    assert target.addresses == ("93.184.215.14",)
    assert (target.host, target.port, target.path) == ("93.184.215.14", 8080, "/hooks/in?x=1")


def test_an_admin_may_allow_a_private_host_explicitly():
    WebhookAllowedHost.objects.create(host="127.0.0.1")
    assert check_url("http://127.0.0.1:9/hook").addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeAddress):
        check_url("http://169.254.169.254/")  # only the host allowed


def test_https_is_required_when_the_settings_say_so(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    with pytest.raises(UnsafeAddress) as refused:
        check_url("http://93.184.215.14/")
    assert refused.value.code == "https"
    assert check_url("https://93.184.215.14/").port == 443


@pytest.mark.parametrize(
    "url, code",
    [
        ("ftp://93.184.215.14/", "scheme"),
        ("http://user:pw@93.184.215.14/", "credentials"),
        ("http://no-such-host.invalid/", "unresolved"),
    ],
)
def test_other_bad_addresses_are_refused_with_a_reason(url, code):
    with pytest.raises(UnsafeAddress) as refused:
        check_url(url)
    assert refused.value.code == code


def test_metadata_addresses_are_forbidden_even_by_their_ipv6_form():
    assert is_forbidden_address("169.254.169.254")
    assert is_forbidden_address("fd00:ec2::254")
    assert not is_forbidden_address("93.184.215.14")


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://169.254.169.254/"])
def test_an_endpoint_pointed_at_a_forbidden_address_is_refused(manager, url):
    project = ProjectFactory(managers=[manager])
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(
            actor=manager, project=project, url=url, events=["deliverable.created"]
        )
    assert "url" in refused.value.message_dict
    assert not project.webhook_endpoints.exists()


def test_the_address_is_checked_again_when_sent(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    from tests.notifications.test_delivery import endpoint_for, plan

    project = ProjectFactory(managers=[manager])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    loopback_allowed.delete()  # the admin withdraws the permission
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    result = services.delivery_send(delivery_id=row.pk)

    assert result.status == DeliveryStatus.FAILED
    assert receiver.requests == []
    row.refresh_from_db()
    assert "private, local or metadata" in row.error
