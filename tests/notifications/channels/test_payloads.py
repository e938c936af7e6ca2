"""Each kind of message, as each platform gets it, against JSON schemas written from
the platforms' docs (schemas/), received by a real local HTTP server: Slack Block
Kit and a Teams Workflows Adaptive Card, in English and Japanese, with what people
typed escaped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import time_machine

from deliverables.models import DeliverableStatus
from mlteam.notifications.channels import payloads, services
from mlteam.notifications.channels.models import ChatDelivery
from tests.factories import (
    DeliverableFactory,
    MembershipFactory,
    RoleAssignmentFactory,
    UserFactory,
    role,
)

from .conftest import add_channel, bodies

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
# A Wednesday, 10:00 UTC.
NOON = datetime(2026, 12, 2, 10, tzinfo=UTC)


def schema(name: str) -> jsonschema.protocols.Validator:
    document = json.loads((SCHEMAS / name).read_text())
    validator = jsonschema.Draft202012Validator
    validator.check_schema(document)
    return validator(document, format_checker=validator.FORMAT_CHECKER)


SLACK = schema("slack_message.json")
TEAMS = schema("teams_workflow_message.json")
MATTERMOST = schema("mattermost_message.json")
VALIDATORS = {"slack": SLACK, "teams": TEAMS, "mattermost": MATTERMOST}


def _work(project, manager):
    """Late, escalated and due-soon work on two roles, one of them with a title
    that would break a link or a tag; an unfilled required role."""
    owner = UserFactory(first_name="Ann", last_name="Lee")
    MembershipFactory(project=project, user=owner)
    project.required_roles.set([role("ml-engineer"), role("data-scientist")])
    RoleAssignmentFactory(membership=project.memberships.get(user=owner), role=role("ml-engineer"))
    today = NOON.date()
    DeliverableFactory(
        project=project,
        owner=owner,
        title="Model <v2> & [beta]|x",
        due_date=today - timedelta(days=9),
    )
    DeliverableFactory(
        project=project, owner=owner, title="Late", due_date=today - timedelta(days=1)
    )
    DeliverableFactory(
        project=project, owner=None, title="Soon", due_date=today + timedelta(days=2)
    )
    DeliverableFactory(
        project=project,
        title="Finished",
        due_date=today - timedelta(days=5),
        status=DeliverableStatus.DONE,
    )


@pytest.mark.parametrize("platform", ["slack", "teams", "mattermost"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_daily_summary_matches_the_platforms_schema(
    project,
    manager,
    receiver,
    loopback_allowed,
    platform,
    language,
    django_capture_on_commit_callbacks,
):
    _work(project, manager)
    channel = add_channel(project, manager, receiver.url, platform=platform, language=language)
    with time_machine.travel(NOON, tick=False):
        (row_id,) = services.summaries_plan()
        assert services.delivery_send(delivery_id=row_id).status == "succeeded"

    (body,) = bodies(receiver)
    VALIDATORS[platform].validate(body)
    text = json.dumps(body, ensure_ascii=False)
    assert "Finished" not in text  # done work is neither late nor due
    assert "Soon" in text and "Late" in text
    if platform == "slack":
        # What a person typed is escaped; links are the product's own pages.
        assert "Model &lt;v2&gt; &amp; [beta]¦x" in text
        assert f"/projects/{project.pk}/|" in text
        assert "Churn &amp; &lt;Retention&gt;" in text
    elif platform == "teams":
        assert "Model \u2039v2\u203a & (beta)|x" in text
        assert body["attachments"][0]["content"]["actions"][0]["url"].startswith("http")
    else:
        assert "Model \u2039v2\u203a & (beta)|x" in text
        assert f"/projects/{project.pk}/)" in text  # a Markdown link back
    if language == "ja":
        # Words the catalogue already has (the new ones arrive with its next update).
        assert "データサイエンティスト" in text and "MLエンジニア" in text
        assert "期限切れ" in text and "まもなく期日" in text
        assert "2026年12月2日" in text
    else:
        assert "daily summary" in text
        assert "Unfilled roles" in text and "Data scientist" in text and "ML engineer" in text
        assert "Escalated: overdue by more than 3 days" in text
        assert "Dec 2, 2026" in text or "December 2, 2026" in text
    row = ChatDelivery.objects.get(pk=row_id)
    assert row.channel == channel and row.event_type == "summary"


@pytest.mark.parametrize("platform", ["slack", "teams", "mattermost"])
def test_event_gap_and_test_messages_match_the_schema(
    project, manager, receiver, loopback_allowed, platform, django_capture_on_commit_callbacks
):
    from deliverables import services as deliverable_services
    from roles import services as role_services

    channel = add_channel(project, manager, receiver.url, platform=platform, daily_summary=False)
    deliverable = DeliverableFactory(project=project, title="Features & <labels>")
    project.required_roles.set([role("ml-engineer")])
    assignment = RoleAssignmentFactory(
        membership=MembershipFactory(project=project), role=role("ml-engineer")
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliverable_services.deliverable_transition(
            deliverable=deliverable,
            actor=manager,
            to_status=DeliverableStatus.BLOCKED,
            version=deliverable.version,
            reason="Waiting for <data> & labels",
        )
    with django_capture_on_commit_callbacks(execute=True):
        project.refresh_from_db()
        role_services.role_unassign(assignment=assignment, actor=manager, version=project.version)
    rows = list(ChatDelivery.objects.filter(channel=channel).order_by("pk"))
    assert [row.event_type for row in rows] == ["deliverable.blocked", "role.gap_opened"]
    for row in rows:
        assert services.delivery_send(delivery_id=row.pk).status == "succeeded"
    assert services.channel_test(channel=channel, actor=manager).status == "succeeded"

    blocked, gap, test = bodies(receiver)
    for body in (blocked, gap, test):
        VALIDATORS[platform].validate(body)
    text = json.dumps(blocked, ensure_ascii=False)
    assert "Blocked:" in text
    if platform == "slack":
        assert "Waiting for &lt;data&gt; &amp; labels" in text
        assert f"/deliverables/{deliverable.pk}/" in text
    else:  # Teams and Mattermost: Markdown
        assert "Waiting for ‹data› & labels" in text
    assert "ML engineer" in json.dumps(gap) and "Role gap" in json.dumps(gap)
    assert "MLTeam is connected" in json.dumps(test)


def test_a_long_summary_stays_within_slacks_limits(project, manager):
    lines = [
        payloads.Line(text="x" * 200, url="https://example.com/" + "y" * 50) for _ in range(80)
    ]
    message = payloads.Message(
        title="T" * 400,
        summary="s",
        sections=[
            payloads.Section(heading=f"H{n}", groups=[payloads.Group(name="Role", lines=lines)])
            for n in range(60)
        ],
    )
    body = payloads.slack_payload(message)
    SLACK.validate(body)
    assert len(body["blocks"]) == 50
    assert body["blocks"][0]["text"]["text"].endswith("…")


def test_teams_links_and_lists_are_not_broken_by_what_people_type():
    line = payloads.Line(text="[click](http://evil) <b>", url="https://mlteam.example/d/1/")
    card = payloads.teams_payload(
        payloads.Message(title="t", summary="s", sections=[payloads.Section("h", lines=[line])])
    )
    TEAMS.validate(card)
    text = json.dumps(card, ensure_ascii=False)
    assert "[(click)(http://evil) \u2039b\u203a](https://mlteam.example/d/1/)" in text


def test_the_summary_day_is_worded_in_the_channels_language(project, manager):
    _work(project, manager)
    channel = add_channel(project, manager, "https://93.184.215.14/hook", language="ja")
    from django.utils import translation

    from mlteam.notifications.channels import selectors, wording

    summary = selectors.channel_summary(channel=channel, today=date(2026, 12, 2))
    with translation.override("ja"):
        message = wording.summary_message(channel, summary, date(2026, 12, 2))
    assert message.intro == "2026年12月2日"
    text = json.dumps(payloads.teams_payload(message), ensure_ascii=False)
    assert "期限切れ" in text and "データサイエンティスト" in text
