"""A failing link's label is typed by people: in the project's chat summary it stays
text (no channel-wide mention, no link, no tag), in every chat's payload."""

from __future__ import annotations

import json
from datetime import date

import pytest

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.services import link_add
from tests.artifacts import servers
from tests.artifacts.helpers import poll_all, system
from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    loopback_allowed,
    receiver,
    receivers,
)

pytestmark = pytest.mark.django_db

SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
LABEL = "<!channel> @here [win](https://evil.example) <b>x</b>"


def test_a_hostile_link_label_stays_text_in_every_chat(
    work,
    fake,
    receiver,  # noqa: F811
    loopback_allowed,  # noqa: F811
):
    from mlteam.notifications.channels import selectors as chat_selectors
    from mlteam.notifications.channels import wording
    from mlteam.notifications.channels.payloads import (
        mattermost_payload,
        slack_payload,
        teams_payload,
    )
    from tests.notifications.channels.conftest import add_channel

    github = fake()
    github.answer(
        f"/repos/octo/forecast/commits/{SHA}/status",
        servers.github_combined_status(SHA, "failure", [("unit tests", "failure")]),
    )
    github.answer(f"/repos/octo/forecast/commits/{SHA}/check-runs", servers.github_check_runs())
    system("github", github.url)
    link_add(
        deliverable=work.deliverable,
        actor=work.world.people["member"],
        kind="",
        url=f"https://github.com/octo/forecast/commit/{SHA}",
        label=LABEL,
    )
    Deliverable.objects.filter(pk=work.deliverable.pk).update(status=DeliverableStatus.IN_REVIEW)
    poll_all()
    channel = add_channel(work.world.project, work.world.people["manager"], receiver.url)
    today = date(2026, 12, 4)
    message = wording.summary_message(
        channel, chat_selectors.channel_summary(channel=channel, today=today), today
    )
    (section,) = [s for s in message.sections if s.heading == "Failing CI and pipelines"]
    assert LABEL in section.lines[0].detail  # the label itself is carried...
    # ...and escaped in each chat's markup: Slack's links are <address|text>, Teams'
    # and Mattermost's markdown [text](address).
    markup = {
        "slack": (slack_payload(message), ("<!channel>", "@here", "<b>", "<https://evil")),
        "teams": (teams_payload(message), ("<!channel>", "@here", "<b>", "[win](")),
        "mattermost": (mattermost_payload(message), ("<!channel>", "@here", "<b>", "[win](")),
    }
    for name, (payload, raws) in markup.items():
        text = json.dumps(payload, ensure_ascii=False)
        for raw in raws:
            assert raw not in text, (name, raw)
