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
    WebhookAllowedHost.objects.create(host="127.0.0.1", port=9)
    assert check_url("http://127.0.0.1:9/hook").addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeAddress):
        check_url("http://169.254.169.254/")  # only the host allowed


def _allowed(url: str) -> bool:
    try:
        check_url(url)
    except UnsafeAddress as refused:
        assert refused.code == "forbidden_address"
        return False
    return True


def test_a_bare_allowed_host_allows_only_the_addresses_default_port():
    WebhookAllowedHost.objects.create(host="127.0.0.1")
    assert _allowed("http://127.0.0.1/hook")
    assert _allowed("http://127.0.0.1:80/hook")  # the default, written out
    assert _allowed("https://127.0.0.1/hook")
    assert _allowed("https://127.0.0.1:443/hook")
    assert not _allowed("http://127.0.0.1:8000/hook")
    assert not _allowed("http://127.0.0.1:443/hook")  # http's default is 80
    assert not _allowed("https://127.0.0.1:80/hook")
    assert not _allowed("http://[::1]/hook")  # another host altogether


def test_a_host_allowed_on_a_port_allows_that_port_only():
    WebhookAllowedHost.objects.create(host="127.0.0.1", port=8443)
    WebhookAllowedHost.objects.create(host="::1", port=9000)
    assert _allowed("https://127.0.0.1:8443/hook")
    assert _allowed("http://127.0.0.1:8443/hook")
    assert _allowed("http://[::1]:9000/hook")
    assert not _allowed("http://127.0.0.1/hook")
    assert not _allowed("https://127.0.0.1/hook")
    assert not _allowed("http://127.0.0.1:8444/hook")
    assert not _allowed("http://[::1]/hook")


@pytest.mark.parametrize(
    ("typed", "port", "host", "saved_port", "shown"),
    [
        ("Hooks.Internal", None, "hooks.internal", None, "hooks.internal"),
        (" hooks.internal:8443 ", None, "hooks.internal", 8443, "hooks.internal:8443"),
        ("hooks.internal", 8443, "hooks.internal", 8443, "hooks.internal:8443"),
        ("hooks.internal:8443", 8443, "hooks.internal", 8443, "hooks.internal:8443"),
        ("[FD00::5]:8080", None, "fd00::5", 8080, "[fd00::5]:8080"),
        ("[fd00::5]", None, "fd00::5", None, "[fd00::5]"),
        ("fd00::5", None, "fd00::5", None, "[fd00::5]"),
        ("10.0.0.5:1", None, "10.0.0.5", 1, "10.0.0.5:1"),
    ],
)
def test_an_allowed_host_is_typed_as_host_or_host_and_port(typed, port, host, saved_port, shown):
    entry = WebhookAllowedHost(host=typed, port=port)
    entry.full_clean()
    entry.save()
    assert (entry.host, entry.port, str(entry)) == (host, saved_port, shown)


@pytest.mark.parametrize(
    ("typed", "port", "field", "code"),
    [
        ("hooks.internal:", None, "host", "port"),
        ("hooks.internal:http", None, "host", "port"),
        ("hooks.internal:0", None, "host", "port"),
        ("hooks.internal:65536", None, "host", "port"),
        ("hooks.internal:٣", None, "host", "port"),
        ("[fd00::5]x", None, "host", "port"),
        ("[fd00::5]:", None, "host", "port"),
        ("hooks.internal:8443", 9443, "host", "two_ports"),
        (":8443", None, "host", "required"),
        ("hooks.internal", 0, "port", "min_value"),
        ("hooks.internal", 70000, "port", "max_value"),
    ],
)
def test_a_bad_allowed_host_is_refused_on_its_field(typed, port, field, code):
    with pytest.raises(ValidationError) as refused:
        WebhookAllowedHost(host=typed, port=port).full_clean()
    assert [error.code for error in refused.value.error_dict[field]] == [code]
    assert not WebhookAllowedHost.objects.exists()


def test_an_allowed_host_and_port_is_listed_once():
    WebhookAllowedHost.objects.create(host="hooks.internal")
    WebhookAllowedHost.objects.create(host="hooks.internal", port=8443)
    for typed, port in [("hooks.internal", None), ("HOOKS.internal:8443", None)]:
        with pytest.raises(ValidationError) as refused:
            WebhookAllowedHost(host=typed, port=port).full_clean()
        assert "already allowed" in " ".join(refused.value.messages)
    WebhookAllowedHost(host="hooks.internal", port=9443).full_clean()  # another port is fine


def test_the_admin_adds_a_host_with_its_port_in_one_field(client):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:notifications_webhookallowedhost_add")
    response = client.post(url, {"host": "hooks.internal:8443", "port": "", "note": "CI"})
    assert response.status_code == 302
    entry = WebhookAllowedHost.objects.get()
    assert (entry.host, entry.port) == ("hooks.internal", 8443)

    again = client.post(url, {"host": "hooks.internal", "port": "8443", "note": ""})
    assert again.status_code == 200
    assert "This host and port are already allowed." in again.content.decode()
    bad = client.post(url, {"host": "hooks.internal:99999", "port": "", "note": ""})
    assert bad.status_code == 200
    assert "Enter a port from 1 to 65535 after the colon." in bad.content.decode()
    assert WebhookAllowedHost.objects.count() == 1
    listing = client.get(reverse("admin:notifications_webhookallowedhost_changelist"))
    assert "default (443/80)" not in listing.content.decode()
    assert "8443" in listing.content.decode()


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


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64's well-known prefix (RFC 6052)
        "::ffff:0:a9fe:a9fe",  # IPv4-translated (SIIT)
        "::a9fe:a9fe",  # IPv4-compatible (deprecated, still parsed)
        "2002:a9fe:a9fe::1",  # 6to4
        "fd00:ec2::254",
    ],
)
def test_an_allowed_host_never_reaches_the_metadata_service_in_an_ipv6_form(address):
    """An allowed host may be private, never the metadata service: not when its
    address carries 169.254.169.254 inside IPv6 either (a NAT64 gateway, a 6to4
    relay or the kernel would take the request there)."""
    WebhookAllowedHost.objects.create(host=address)
    with pytest.raises(UnsafeAddress) as refused:
        check_url(f"http://[{address}]/")
    assert refused.value.code == "forbidden_address"


def test_an_allowed_private_ipv6_host_is_still_allowed():
    WebhookAllowedHost.objects.create(host="fd00::5", port=8080)
    assert check_url("http://[fd00::5]:8080/hook").addresses == ("fd00::5",)


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


def test_the_port_is_checked_again_when_sent(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """The admin narrows the permission to the host's default port: the receiver's
    own port is refused from the next attempt on."""
    from tests.notifications.test_delivery import endpoint_for, plan

    project = ProjectFactory(managers=[manager])
    endpoint = endpoint_for(project, manager, receiver.url)
    plan(project, manager, django_capture_on_commit_callbacks)
    loopback_allowed.update(port=None)
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)

    assert services.delivery_send(delivery_id=row.pk).status == DeliveryStatus.FAILED
    assert receiver.requests == []


def test_a_refusal_names_the_host_but_not_the_address_it_resolves_to(settings):
    """Every member may try an address (their own chat webhook): the answer must not
    tell them which internal address a name leads to."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    with pytest.raises(UnsafeAddress) as refused:
        check_url("http://localhost:8080/hook")
    text = " ".join(refused.value.messages)
    assert "localhost" in text
    assert "127.0.0.1" not in text and "::1" not in text
