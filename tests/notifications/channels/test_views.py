"""The chat channel pages: who may use them (404 for a project one may not see, 403
for one seen but not managed), what they do and refuse, the address never shown
again in full, the test message, the admin, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mlteam.notifications.channels.models import ChatChannel, ChatDelivery
from mlteam.notifications.models import DeliveryStatus
from roles.models import Project
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, manager_user

from .conftest import ALL_EVENTS, add_channel

pytestmark = pytest.mark.django_db

SECRET_URL = "https://93.184.215.14/services/T000/B000/XXXXsecretpartABCD"


@pytest.fixture
def world(manager, admin):
    project = ProjectFactory(managers=[manager])
    member = UserFactory(username="teammate")
    MembershipFactory(project=project, user=member)
    channel = add_channel(project, manager, SECRET_URL)
    people = {
        "outsider": UserFactory(username="outsider"),
        "member": member,
        "other_manager": manager_user(username="other-manager"),
        "manager": manager,
        "admin": admin,
    }
    return project, channel, people


EXPECTED = {"outsider": 404, "member": 403, "other_manager": 404, "manager": 200, "admin": 200}


def _form(**overrides) -> dict:
    data = {
        "name": "#ml-team",
        "platform": "slack",
        "url": "",
        "events": ALL_EVENTS,
        "daily_summary": "on",
        "hour": "9",
        "time_zone": "Asia/Tokyo",
        "working_days": ["0", "1", "2", "3", "4"],
        "paused_until": "",
        "due_soon_days": "3",
        "language": "ja",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _pages(project, channel):
    p, c = project.pk, channel.pk
    return [
        ("get", reverse("chat:channels", args=[p])),
        ("get", reverse("chat:channel_create", args=[p])),
        ("get", reverse("chat:channel_edit", args=[p, c])),
        ("get", reverse("chat:channel_toggle", args=[p, c])),
        ("get", reverse("chat:channel_delete", args=[p, c])),
        ("get", reverse("chat:deliveries", args=[p, c])),
        ("post", reverse("chat:channel_create", args=[p])),
        ("post", reverse("chat:channel_edit", args=[p, c])),
        ("post", reverse("chat:channel_test", args=[p, c])),
        ("post", reverse("chat:channel_toggle", args=[p, c])),
        ("post", reverse("chat:channel_delete", args=[p, c])),  # last: it is gone
    ]


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_only_the_projects_managers_and_admins_use_the_channel_pages(
    client, world, persona, monkeypatch
):
    project, channel, people = world
    # The test message goes nowhere real: the sender is not what this test is about.
    from mlteam.notifications.channels import services as chat_services
    from mlteam.notifications.sender import Outcome

    monkeypatch.setattr(chat_services, "post", lambda *a, **k: Outcome(True, 200, 1))
    client.force_login(people[persona])
    for method, url in _pages(project, channel):
        version = ChatChannel.objects.filter(pk=channel.pk).values_list("version", flat=True)
        data = _form(name="Renamed", url="https://93.184.215.14/hooks/new", version=version.first())
        response = getattr(client, method)(url, data if method == "post" else None)
        if EXPECTED[persona] == 200:
            assert response.status_code in (200, 302), (url, response.status_code)
        else:
            assert response.status_code == EXPECTED[persona], url
    if EXPECTED[persona] != 200:  # nothing changed, nothing sent
        channel.refresh_from_db()
        assert (channel.name, channel.url, channel.active) == ("#ml-team", SECRET_URL, True)
        assert ChatChannel.objects.filter(project=project).count() == 1
        assert not ChatDelivery.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    project, channel, _people = world
    for method, url in _pages(project, channel):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert ChatChannel.objects.filter(pk=channel.pk).exists()


def test_a_channel_of_another_project_is_not_found(client, world, manager):
    _project, channel, _people = world
    other = ProjectFactory(managers=[manager])
    client.force_login(manager)
    for name in ("chat:channel_edit", "chat:channel_delete", "chat:deliveries"):
        assert client.get(reverse(name, args=[other.pk, channel.pk])).status_code == 404


def test_a_manager_adds_a_channel_and_its_address_is_never_shown_again(client, world, manager):
    project, *_ = world
    client.force_login(manager)
    url = "https://93.184.215.14/services/T1/B2/abcdefghijklmnopWXYZ"
    response = client.post(
        reverse("chat:channel_create", args=[project.pk]),
        _form(name="#data", url=url, platform="teams"),
    )
    assert response.status_code == 302
    channel = ChatChannel.objects.get(name="#data")
    assert (channel.url, channel.platform, channel.language) == (url, "teams", "ja")
    assert (channel.hour, channel.time_zone, channel.working_days) == (9, "Asia/Tokyo", "0,1,2,3,4")
    assert channel.created_by == manager
    listing = client.get(reverse("chat:channels", args=[project.pk])).content.decode()
    assert "#data" in listing and "93.184.215.14/…WXYZ" in listing
    assert url not in listing and "abcdefghijklmnop" not in listing
    edit = client.get(reverse("chat:channel_edit", args=[project.pk, channel.pk])).content.decode()
    assert "abcdefghijklmnop" not in edit and "…WXYZ" in edit


def test_an_edit_without_an_address_keeps_the_saved_one(client, world, manager):
    project, channel, _people = world
    client.force_login(manager)
    response = client.post(
        reverse("chat:channel_edit", args=[project.pk, channel.pk]),
        _form(name="#renamed", events=["deliverable.done"], version=channel.version),
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.url, channel.events) == (
        "#renamed",
        SECRET_URL,
        ["deliverable.done"],
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/hook", "private, local or metadata"),
        ("http://169.254.169.254/latest", "private, local or metadata"),
        ("https://user:pw@93.184.215.14/hook", "user name and password"),
        ("ftp://93.184.215.14/hook", "Enter an http or https address."),
        ("not an address", "Enter a valid URL"),
        ("https://x.webhook.office.com/webhookb2/abc", "Office 365 connector"),
    ],
)
def test_a_refused_address_is_a_clear_form_error_and_saves_nothing(
    client, world, manager, url, message
):
    project, *_ = world
    client.force_login(manager)
    response = client.post(
        reverse("chat:channel_create", args=[project.pk]), _form(name="#bad", url=url)
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ChatChannel.objects.filter(name="#bad").exists()


@pytest.mark.parametrize("platform", ["teams", "mattermost"])
def test_a_slack_address_on_another_platform_is_refused(client, world, manager, platform):
    project, *_ = world
    client.force_login(manager)
    response = client.post(
        reverse("chat:channel_create", args=[project.pk]),
        _form(url="https://hooks.slack.com/services/T/B/C", platform=platform),
    )
    assert response.status_code == 422
    assert "This is a Slack address" in response.content.decode()


def test_nothing_chosen_and_bad_schedules_are_form_errors(client, world, manager):
    project, *_ = world
    client.force_login(manager)
    create = reverse("chat:channel_create", args=[project.pk])
    nothing = client.post(create, _form(url=SECRET_URL, events=[], daily_summary=None))
    assert nothing.status_code == 422
    assert "Choose at least one event, or the daily summary." in nothing.content.decode()
    bad = client.post(
        create,
        _form(url=SECRET_URL, hour="24", time_zone="Mars/Olympus", due_soon_days="99",
              working_days=["9"]),
    )  # fmt: skip
    assert bad.status_code == 422
    assert ChatChannel.objects.filter(project=project).count() == 1


def test_an_edit_drawn_from_an_old_version_saves_nothing(client, world, manager):
    project, channel, _people = world
    client.force_login(manager)
    url = reverse("chat:channel_edit", args=[project.pk, channel.pk])
    stale = client.post(url, _form(name="Stale", version=channel.version - 1 or 999))
    assert stale.status_code == 422
    assert "Someone else changed this channel" in stale.content.decode()
    channel.refresh_from_db()
    assert channel.name == "#ml-team"
    deleted = client.post(
        reverse("chat:channel_delete", args=[project.pk, channel.pk]),
        {"version": channel.version + 5},
    )
    assert deleted.status_code == 409
    assert ChatChannel.objects.filter(pk=channel.pk).exists()


def test_delete_asks_first_then_removes_the_channel_and_its_log(client, world, manager):
    project, channel, _people = world
    ChatDelivery.objects.create(channel=channel, event_id="test:1", event_type="test")
    client.force_login(manager)
    url = reverse("chat:channel_delete", args=[project.pk, channel.pk])
    question = client.get(url)
    assert question.status_code == 200 and "Delete #ml-team and its message log?" in (
        question.content.decode()
    )
    assert ChatChannel.objects.filter(pk=channel.pk).exists()
    response = client.post(url, {"version": channel.version})
    assert response.status_code == 302
    assert not ChatChannel.objects.filter(pk=channel.pk).exists()
    assert not ChatDelivery.objects.exists()


def test_turn_off_and_on(client, world, manager):
    project, channel, _people = world
    client.force_login(manager)
    url = reverse("chat:channel_toggle", args=[project.pk, channel.pk])
    client.post(url, {"version": channel.version})
    channel.refresh_from_db()
    assert not channel.active and channel.disabled_reason == ChatChannel.DISABLED_BY_HAND
    client.post(url, {"version": channel.version})
    channel.refresh_from_db()
    assert channel.active and channel.disabled_reason == ""


def test_a_test_message_arrives_and_the_manager_is_told(
    client, manager, receivers, loopback_allowed
):
    project = ProjectFactory(managers=[manager])
    ok = add_channel(project, manager, receivers([200]).url, name="#ok")
    broken = add_channel(project, manager, receivers([404]).url, name="#broken")
    client.force_login(manager)

    good = client.post(reverse("chat:channel_test", args=[project.pk, ok.pk]), follow=True)
    bad = client.post(reverse("chat:channel_test", args=[project.pk, broken.pk]), follow=True)

    assert "Test message sent to #ok." in good.content.decode()
    assert "The test message did not arrive: HTTP 404" in bad.content.decode()
    statuses = dict(ChatDelivery.objects.values_list("channel_id", "status"))
    assert statuses == {ok.pk: DeliveryStatus.SUCCEEDED, broken.pk: DeliveryStatus.GAVE_UP}
    log = client.get(reverse("chat:deliveries", args=[project.pk, broken.pk])).content.decode()
    assert "Test message" in log and "HTTP 404" in log


def test_an_archived_project_adds_and_tests_no_channel(client, world, manager):
    project, channel, _people = world
    Project.objects.filter(pk=project.pk).update(archived_at=timezone.now())
    client.force_login(manager)
    listing = client.get(reverse("chat:channels", args=[project.pk])).content.decode()
    assert "send nothing until it is restored" in listing
    response = client.post(
        reverse("chat:channel_create", args=[project.pk]), _form(url=SECRET_URL), follow=True
    )
    assert "send nothing until it is restored" in response.content.decode()
    tested = client.post(reverse("chat:channel_test", args=[project.pk, channel.pk]), follow=True)
    assert "send nothing until it is restored" in tested.content.decode()
    assert ChatChannel.objects.filter(project=project).count() == 1
    assert not ChatDelivery.objects.exists()


def test_the_project_page_and_its_settings_link_managers_to_the_channels(client, world, manager):
    project, _channel, people = world
    url = reverse("chat:channels", args=[project.pk])
    client.force_login(manager)
    assert url in client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    assert url in client.get(reverse("roles:project_edit", args=[project.pk])).content.decode()
    client.force_login(people["member"])
    assert (
        url not in client.get(reverse("roles:project_detail", args=[project.pk])).content.decode()
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_lists_do_not_grow_with_data(client, world, manager):
    # Queries: session, user, permissions, the project, the channels with who added
    # them; the log adds the channel, the count and the page of messages.
    project, channel, _people = world
    client.force_login(manager)
    list_url = reverse("chat:channels", args=[project.pk])
    log_url = reverse("chat:deliveries", args=[project.pk, channel.pk])
    ChatDelivery.objects.create(channel=channel, event_id="test:first", event_type="test")
    small = (_queries(client, list_url), _queries(client, log_url))
    others = [manager_user(username=f"m{n}") for n in range(4)]
    project.managers.add(*others)
    for n, other in enumerate(others):
        add_channel(project, other, f"{SECRET_URL}{n}")
    ChatDelivery.objects.bulk_create(
        ChatDelivery(channel=channel, event_id=f"test:{n}", event_type="test") for n in range(40)
    )
    large = (_queries(client, list_url), _queries(client, log_url))
    assert large == small


def test_admins_add_and_edit_a_channel_through_the_services(client, admin, manager):
    project = ProjectFactory(managers=[manager])
    client.force_login(admin)
    data = {
        "project": project.pk,
        "name": "#admin",
        "platform": "slack",
        "address": SECRET_URL,
        "events": ["deliverable.done"],
        "daily_summary": "on",
        "hour": "8",
        "time_zone": "UTC",
        "working_days": ["0", "1"],
        "paused_until": "",
        "due_soon_days": "3",
        "language": "en",
    }
    response = client.post(reverse("admin:chat_chatchannel_add"), data, follow=True)
    assert response.status_code == 200
    channel = ChatChannel.objects.get(name="#admin")
    assert channel.created_by == admin and channel.working_days == "0,1"
    change = reverse("admin:chat_chatchannel_change", args=[channel.pk])
    page = client.get(change).content.decode()
    assert "XXXXsecretpart" not in page and "…ABCD" in page
    data.update(name="#admin2", address="", version=channel.version)
    client.post(change, data)
    channel.refresh_from_db()
    assert (channel.name, channel.url) == ("#admin2", SECRET_URL)
    refused = client.post(
        reverse("admin:chat_chatchannel_add"), {**data, "address": "http://169.254.169.254/"}
    )
    assert "private, local or metadata" in refused.content.decode()
    assert ChatChannel.objects.count() == 1


def test_a_manager_may_not_add_a_channel_to_someone_elses_project(manager):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        add_channel(ProjectFactory(), manager, SECRET_URL)
