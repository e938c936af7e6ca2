"""The cluster harness's own checks, without starting the cluster: it reads the
real home page the way the templates draw it, and its delivery and lost-update
checks fail the run on a duplicate, a missing message or the wrong winner."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from deploy.cluster.harness import HttpReceiver, _check_deliveries, haproxy_config
from deploy.cluster.load import Figures, home_allocation, home_statuses
from tests.factories import UserFactory, deliverable_type, manager_user, role


@pytest.mark.django_db
def test_the_harness_reads_statuses_and_allocations_off_the_real_home_page(client):
    from deliverables.services import deliverable_create, deliverable_transition
    from roles.services import member_staff, project_create

    manager = manager_user()
    project = project_create(name="Read", managers=[manager], actor=manager)
    member = UserFactory()
    member_staff(
        project=project, user=member, role=role("ml-engineer"), allocation_percent=35,
        actor=manager,
    )  # fmt: skip
    late, soon = (
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=title,
            owner=member,
            due_date=timezone.localdate() + timedelta(days=days),
            actor=manager,
        )
        for title, days in (("Late", -2), ("Soon", 2))
    )
    deliverable_transition(deliverable=soon, actor=member, to_status="in_progress", version=None)
    client.force_login(member)
    html = client.get("/").content.decode()
    assert home_statuses(html) == {late.pk: "not_started", soon.pk: "in_progress"}
    assert home_allocation(html, project.pk) == 35
    assert home_allocation(html, project.pk + 1) is None


def _mail(*recipients: str) -> object:
    messages = []
    for address in recipients:
        message = EmailMessage()
        message["To"] = address
        messages.append(message)
    return type("Mail", (), {"received": messages})()


def _state(**changes) -> dict:
    state = {
        "digest_status": {"sent": 2},
        "webhook_sent": ["evt_1", "evt_2"],
        "chat_sent_by_url": {"http://127.0.0.1:9/chat/1": 1},
        "contested": {"7": "Contested round 4 A"},
    }
    return {**state, **changes}


def _receiver(webhook_ids: list[str], chats: int = 1) -> HttpReceiver:
    receiver = HttpReceiver()
    for event_id in webhook_ids:
        receiver.by_webhook_id[event_id] += 1
        receiver.by_path["/hook/1"] += 1
    receiver.by_path["/chat/1"] += chats
    return receiver


def _check(state: dict, receiver: HttpReceiver, mail, **options) -> Figures:
    figures = Figures()
    figures.contested_winner[7] = "Contested round 4 A"
    _check_deliveries(figures, state, receiver, mail, people=2, **options)
    return figures


def test_a_run_across_midnight_leaves_the_digests_unjudged():
    """Two digests a person are then due (one per day): not a duplicate, and the
    other deliveries are still judged."""
    state = _state(digest_status={"sent": 4})
    mail = _mail("a@x.test", "b@x.test", "a@x.test", "b@x.test")
    figures = _check(state, _receiver(["evt_1", "evt_2"]), mail, judge_digests=False)
    assert figures.failures == [] and "digest emails" not in figures.duplicates
    figures = _check(state, _receiver(["evt_1", "evt_1"]), mail, judge_digests=False)
    assert figures.failures


def test_matching_receivers_and_ledgers_pass():
    figures = _check(_state(), _receiver(["evt_1", "evt_2"]), _mail("a@x.test", "b@x.test"))
    assert figures.failures == []
    assert figures.duplicates == {"digest emails": 0, "webhook messages": 0, "chat messages": 0}


def test_a_webhook_message_received_twice_fails_the_run():
    figures = _check(
        _state(), _receiver(["evt_1", "evt_2", "evt_2"]), _mail("a@x.test", "b@x.test")
    )
    assert figures.duplicates["webhook messages"] == 1
    assert "webhook messages: 1 sent more than once" in figures.failures


def test_a_second_digest_to_one_person_fails_the_run():
    figures = _check(
        _state(), _receiver(["evt_1", "evt_2"]), _mail("a@x.test", "b@x.test", "a@x.test")
    )
    assert "digest emails: 1 sent more than once" in figures.failures


def test_a_message_the_ledger_sent_but_nobody_received_fails_the_run():
    figures = _check(_state(), _receiver(["evt_1"]), _mail("a@x.test", "b@x.test"))
    assert any(
        failure.startswith("webhooks: 1 message ids received") for failure in figures.failures
    )


def test_an_extra_chat_message_fails_the_run():
    figures = _check(
        _state(), _receiver(["evt_1", "evt_2"], chats=2), _mail("a@x.test", "b@x.test")
    )
    assert figures.duplicates["chat messages"] == 1


def test_a_contested_deliverable_not_showing_the_winner_is_a_lost_update():
    figures = _check(
        _state(contested={"7": "Contested round 4 B"}),
        _receiver(["evt_1", "evt_2"]),
        _mail("a@x.test", "b@x.test"),
    )
    assert figures.failures == [
        "deliverable 7 is titled 'Contested round 4 B', the winning save was 'Contested round 4 A'"
    ]


def test_the_balancer_spreads_requests_without_stickiness_and_checks_health():
    config = haproxy_config(port=8100, backends=[8101, 8102, 8103])
    assert "balance roundrobin" in config
    assert "cookie" not in config and "stick" not in config
    assert "uri /healthz" in config
    assert config.count("check inter") == 3
    assert "set-header X-Forwarded-Proto https" in config
