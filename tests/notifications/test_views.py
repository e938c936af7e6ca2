"""The webhook pages: who may use them (404 for a project one may not see, 403 for
one seen but not managed), what they do, the secret shown once, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mlteam.notifications import services
from mlteam.notifications.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, manager_user

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks/mlteam"


@pytest.fixture
def world(manager, admin):
    project = ProjectFactory(managers=[manager])
    member = UserFactory(username="teammate")
    MembershipFactory(project=project, user=member)
    endpoint = services.endpoint_create(
        actor=manager, project=project, url=PUBLIC_URL, events=[WebhookEvent.DELIVERABLE_CREATED]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        project=project,
        event_id="evt_1",
        event_type=WebhookEvent.DELIVERABLE_CREATED,
        payload={"type": "deliverable.created"},
        status=DeliveryStatus.GAVE_UP,
        attempts=9,
    )
    people = {
        "outsider": UserFactory(username="outsider"),
        "member": member,
        "manager": manager,
        "other_manager": manager_user(username="other-manager"),
        "admin": admin,
    }
    return project, endpoint, delivery, people


# What each persona gets on every webhook page: the project's managers and admins
# use them; a team member sees the project but may not (403); others do not see it (404).
EXPECTED = {"outsider": 404, "member": 403, "other_manager": 404, "manager": 200, "admin": 200}


def _pages(project, endpoint, delivery):
    p, e = project.pk, endpoint.pk
    return [
        ("get", reverse("notifications:endpoints", args=[p])),
        ("get", reverse("notifications:endpoint_create", args=[p])),
        ("get", reverse("notifications:endpoint_edit", args=[p, e])),
        ("get", reverse("notifications:endpoint_toggle", args=[p, e])),
        ("get", reverse("notifications:endpoint_rotate", args=[p, e])),
        ("get", reverse("notifications:endpoint_delete", args=[p, e])),
        ("get", reverse("notifications:deliveries", args=[p, e])),
        ("post", reverse("notifications:delivery_replay", args=[p, e, delivery.pk])),
        ("post", reverse("notifications:endpoint_rotate", args=[p, e])),
        ("post", reverse("notifications:endpoint_delete", args=[p, e])),  # last: it is gone
    ]


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_only_the_projects_managers_and_admins_use_the_webhook_pages(client, world, persona):
    project, endpoint, delivery, people = world
    client.force_login(people[persona])
    secret = endpoint.secret
    for method, url in _pages(project, endpoint, delivery):
        version = WebhookEndpoint.objects.values_list("version", flat=True).get(pk=endpoint.pk)
        response = getattr(client, method)(url, {"version": version})
        if EXPECTED[persona] == 200:
            assert response.status_code in (200, 302), url
        else:
            assert response.status_code == EXPECTED[persona], url
    if EXPECTED[persona] != 200:  # nothing changed
        endpoint.refresh_from_db()
        delivery.refresh_from_db()
        assert endpoint.secret == secret
        assert delivery.status == DeliveryStatus.GAVE_UP


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    project, endpoint, delivery, _people = world
    for method, url in _pages(project, endpoint, delivery):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_endpoint_of_another_project_is_not_found(client, world, manager):
    _project, endpoint, _delivery, _people = world
    other = ProjectFactory(managers=[manager])
    client.force_login(manager)
    url = reverse("notifications:endpoint_edit", args=[other.pk, endpoint.pk])
    assert client.get(url).status_code == 404


def test_a_manager_adds_a_webhook_and_sees_its_secret_once(client, world, manager):
    project, *_ = world
    client.force_login(manager)
    response = client.post(
        reverse("notifications:endpoint_create", args=[project.pk]),
        {
            "url": "https://93.184.215.14/other",
            "description": "CI bot",
            "events": [WebhookEvent.PERSON_ADDED, WebhookEvent.ROLE_ASSIGNED],
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(description="CI bot")
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert endpoint.events == ["person.added", "role.assigned"]
    assert endpoint.created_by == manager
    listing = client.get(reverse("notifications:endpoints", args=[project.pk]))
    assert "CI bot" in listing.content.decode()
    assert endpoint.secret not in listing.content.decode()


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://169.254.169.254/latest"])
def test_a_forbidden_address_is_refused_on_the_form(client, world, manager, url):
    project, *_ = world
    client.force_login(manager)
    response = client.post(
        reverse("notifications:endpoint_create", args=[project.pk]),
        {"url": url, "events": [WebhookEvent.PERSON_ADDED]},
    )
    assert response.status_code == 422
    assert "private, local or metadata" in response.content.decode()
    assert project.webhook_endpoints.count() == 1  # the fixture's


def test_no_events_chosen_is_a_form_error(client, world, manager):
    project, *_ = world
    client.force_login(manager)
    response = client.post(
        reverse("notifications:endpoint_create", args=[project.pk]), {"url": PUBLIC_URL}
    )
    assert response.status_code == 422
    assert "Choose at least one event." in response.content.decode()


def test_edit_with_a_stale_version_saves_nothing(client, world, manager):
    project, endpoint, *_ = world
    client.force_login(manager)
    url = reverse("notifications:endpoint_edit", args=[project.pk, endpoint.pk])
    data = {"url": PUBLIC_URL, "description": "New", "events": [WebhookEvent.PERSON_ADDED]}
    stale = client.post(url, {**data, "version": endpoint.version - 1})
    assert stale.status_code == 422
    fresh = client.post(url, {**data, "version": endpoint.version})
    assert fresh.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.events) == ("New", ["person.added"])


def test_turn_off_and_on_rotate_and_delete(client, world, manager):
    project, endpoint, *_ = world
    client.force_login(manager)
    args = [project.pk, endpoint.pk]

    client.post(reverse("notifications:endpoint_toggle", args=args), {"version": endpoint.version})
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == WebhookEndpoint.DISABLED_BY_HAND
    client.post(reverse("notifications:endpoint_toggle", args=args), {"version": endpoint.version})
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_at is None

    old_secret = endpoint.secret
    response = client.post(
        reverse("notifications:endpoint_rotate", args=args), {"version": endpoint.version}
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret
    assert endpoint.secret in response.content.decode()

    response = client.post(
        reverse("notifications:endpoint_delete", args=args), {"version": endpoint.version}
    )
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert not WebhookDelivery.objects.filter(endpoint_id=endpoint.pk).exists()


def test_replay_from_the_log_queues_the_delivery_again(client, world, manager):
    project, endpoint, delivery, _people = world
    client.force_login(manager)
    response = client.post(
        reverse("notifications:delivery_replay", args=[project.pk, endpoint.pk, delivery.pk])
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.event_id == "evt_1"


def test_a_delivery_being_sent_is_not_replayed(client, world, manager):
    project, endpoint, delivery, _people = world
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING)
    client.force_login(manager)
    response = client.post(
        reverse("notifications:delivery_replay", args=[project.pk, endpoint.pk, delivery.pk]),
        follow=True,
    )
    assert "being sent right now" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING


def test_the_project_page_links_managers_to_the_webhooks(client, world, manager):
    project, _endpoint, _delivery, people = world
    url = reverse("notifications:endpoints", args=[project.pk])
    client.force_login(manager)
    assert url in client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    client.force_login(people["member"])
    assert (
        url not in client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def _add_deliveries(endpoint, count, start):
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            project=endpoint.project,
            event_id=f"evt_{start + n}",
            event_type=WebhookEvent.PERSON_ADDED,
            status=DeliveryStatus.SUCCEEDED,
            attempts=1,
            last_response_code=200,
        )
        for n in range(count)
    )


def test_the_lists_do_not_grow_with_data(client, world, manager):
    # Queries: session, user, permissions, the project, the endpoint(s) with their
    # owners; the log adds the endpoint, the count and the page of deliveries.
    project, endpoint, _delivery, _people = world
    client.force_login(manager)
    endpoints_url = reverse("notifications:endpoints", args=[project.pk])
    log_url = reverse("notifications:deliveries", args=[project.pk, endpoint.pk])
    small = (_queries(client, endpoints_url), _queries(client, log_url))
    for n in range(4):
        services.endpoint_create(
            actor=manager, project=project, url=f"{PUBLIC_URL}/{n}", events=["person.added"]
        )
    _add_deliveries(endpoint, 60, start=100)
    large = (_queries(client, endpoints_url), _queries(client, log_url))
    assert large == small
    page = client.get(log_url).context["page_obj"]
    assert page.paginator.count == 61 and len(page.object_list) == 25
    assert page.object_list[0].created_at >= page.object_list[1].created_at  # newest first


def test_admins_add_a_site_wide_endpoint_in_the_django_admin(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"project": "", "url": PUBLIC_URL, "description": "Audit", "events": ["person.added"]},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(description="Audit")
    assert endpoint.is_site_wide and endpoint.created_by == admin
    assert endpoint.secret in response.content.decode()  # the one time it is shown


def test_the_admin_refuses_a_forbidden_address(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"project": "", "url": "http://169.254.169.254/", "events": ["person.added"]},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "private, local or metadata" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_manager_cannot_make_a_site_wide_endpoint(manager):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.endpoint_create(
            actor=manager, project=None, url=PUBLIC_URL, events=["person.added"]
        )


def test_admins_turn_site_wide_endpoints_off_and_rotate_them_in_the_admin(client, admin):
    endpoint = services.endpoint_create(
        actor=admin, project=None, url=PUBLIC_URL, events=["person.added"]
    )
    old_secret = endpoint.secret
    client.force_login(admin)
    changelist = reverse("admin:notifications_webhookendpoint_changelist")
    client.post(changelist, {"action": "turn_off", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert not endpoint.active
    response = client.post(
        changelist, {"action": "rotate_secret", "_selected_action": [endpoint.pk]}, follow=True
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret
    assert endpoint.secret in response.content.decode()


def test_the_admins_secret_page_is_not_kept_and_no_message_carries_it(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"project": "", "url": PUBLIC_URL, "description": "Audit", "events": ["person.added"]},
    )
    endpoint = WebhookEndpoint.objects.get(description="Audit")
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    following = client.get(reverse("admin:notifications_webhookendpoint_changelist"))
    assert endpoint.secret not in following.content.decode()


def test_an_admin_edit_drawn_from_an_old_version_saves_nothing(client, admin):
    endpoint = services.endpoint_create(
        actor=admin, project=None, url=PUBLIC_URL, events=["person.added"], description="Old"
    )
    drawn = endpoint.version
    services.endpoint_update(
        endpoint=endpoint,
        actor=admin,
        version=drawn,
        url=PUBLIC_URL,
        events=["person.added"],
        description="Changed in the app",
    )
    client.force_login(admin)
    response = client.post(
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
        {
            "url": PUBLIC_URL,
            "description": "From the stale page",
            "events": ["person.added"],
            "version": drawn,
        },
    )
    assert response.status_code == 200  # the form again, with the refusal
    endpoint.refresh_from_db()
    assert endpoint.description == "Changed in the app"
