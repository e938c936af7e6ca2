"""Chat channels against the real local HTTP receivers of tests/notifications
(`receivers`, `loopback_allowed`): a project with its manager, and channels added
through the service."""

from __future__ import annotations

import json

import pytest

from mlteam.notifications.channels import services
from mlteam.notifications.channels.models import ChatEvent
from tests.factories import ProjectFactory

ALL_EVENTS = list(ChatEvent.values)
EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def project(manager):
    return ProjectFactory(managers=[manager], name="Churn & <Retention>")


def add_channel(project, owner, url, **fields):
    values = {
        "name": "#ml-team",
        "platform": "slack",
        "events": ALL_EVENTS,
        "daily_summary": True,
        "hour": 9,
        "time_zone": "UTC",
        "working_days": EVERY_DAY,
        "paused_until": None,
        "due_soon_days": 3,
        "language": "en",
        **fields,
    }
    return services.channel_create(actor=owner, project=project, url=url, **values)


def bodies(receiver) -> list[dict]:
    return [json.loads(request.body) for request in receiver.requests]
