"""Security review findings: webhooks (SSRF address checks, deliveries after access is lost)."""

from __future__ import annotations

from unittest import mock

import pytest

from deliverables import services as deliverable_services
from mlteam.notifications import services
from mlteam.notifications.addresses import UnsafeAddress, check_url, is_forbidden_address
from mlteam.notifications.models import WebhookDelivery, WebhookEvent
from tests.factories import MembershipFactory, ProjectFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # shared address space (RFC 6598): carrier/cloud internal networks
        "100.100.100.200",  # Alibaba Cloud's metadata service
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_non_public_addresses_are_forbidden(address):
    assert is_forbidden_address(address)


def test_a_name_resolving_to_the_shared_address_space_is_refused():
    infos = [(2, 1, 6, "", ("100.100.100.200", 80))]
    with (
        mock.patch("socket.getaddrinfo", return_value=infos),
        pytest.raises(UnsafeAddress) as refused,
    ):
        check_url("http://metadata.example/latest/")
    assert refused.value.code == "forbidden_address"


def test_public_addresses_stay_allowed():
    for address in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"]:
        assert not is_forbidden_address(address)


def test_an_endpoint_whose_owner_was_deactivated_stops_receiving(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """A manager who is also on the team makes an endpoint, then leaves (deactivated,
    as mlteam.services does; their membership stays, as it does in the app). Their
    receiver must not keep getting the project's events."""
    colleague = manager_user(username="colleague")
    project = ProjectFactory(managers=[manager, colleague])
    MembershipFactory(project=project, user=manager)
    endpoint = services.endpoint_create(
        actor=manager,
        project=project,
        url=receiver.url,
        events=[WebhookEvent.DELIVERABLE_CREATED],
    )
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_services.deliverable_create(
            project=project, type=deliverable_type("deployed-model"), actor=colleague
        )
    for row in WebhookDelivery.objects.filter(endpoint=endpoint):
        services.delivery_send(delivery_id=row.pk)
    assert receiver.requests == [], "a deactivated owner's receiver still gets the payloads"


def test_anonymising_a_person_takes_their_name_out_of_webhook_deliveries(
    manager, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    """The delivery ledger keeps each payload (shown to the project's managers,
    replayed as stored): anonymisation must reach it as it reaches the history."""
    from mlteam.services import person_anonymise
    from tests.factories import UserFactory

    project = ProjectFactory(managers=[manager])
    member = UserFactory(username="erase-me", first_name="Erika", last_name="Mustermann")
    MembershipFactory(project=project, user=member)
    endpoint = services.endpoint_create(
        actor=manager, project=project, url=receiver.url, events=[WebhookEvent.DELIVERABLE_CREATED]
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_services.deliverable_create(
            project=project, type=deliverable_type("deployed-model"), actor=manager, owner=member
        )
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert "Erika Mustermann" in str(row.payload)

    person_anonymise(user=member, reason="Erasure request")

    row.refresh_from_db()
    assert "Erika" not in str(row.payload) and "Mustermann" not in str(row.payload)


def test_an_allowed_host_still_may_not_lead_to_a_metadata_address():
    """The admin allows a private host for an internal receiver; if that name ever
    resolves to the cloud metadata service (re-pointed, or rebinding), the check
    must still refuse it: no receiver lives there."""
    from mlteam.notifications.models import WebhookAllowedHost

    WebhookAllowedHost.objects.create(host="hooks.internal.example")
    infos = [(2, 1, 6, "", ("169.254.169.254", 80))]
    with (
        mock.patch("socket.getaddrinfo", return_value=infos),
        pytest.raises(UnsafeAddress) as refused,
    ):
        check_url("http://hooks.internal.example/latest/meta-data/")
    assert refused.value.code == "forbidden_address"


def test_a_receiver_trickling_its_answer_cannot_hold_a_worker_much_past_the_timeout(settings):
    """The timeouts are per socket read: a receiver (any project manager chooses
    the address) that sends one byte of its status line and headers every
    half-second never trips a 1-second read timeout, and holds the worker, past
    the delivery's lease (another worker then sends it again), for as long as it
    likes."""
    import socket
    import threading
    import time as clock

    from mlteam.notifications.addresses import Target
    from mlteam.notifications.sender import post

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
                conn.sendall(bytes([byte]))
                clock.sleep(0.5)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    target = Target("http", "127.0.0.1", port, "/", ("127.0.0.1",))
    started = clock.monotonic()
    outcome = post(target, body=b"{}", headers={})
    elapsed = clock.monotonic() - started
    server.close()
    assert not outcome.succeeded
    assert elapsed < 5, f"the send took {elapsed:.1f}s with a 1-second timeout"
