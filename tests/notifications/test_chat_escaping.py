"""Typed text in chat messages stays text: no channel-wide mention ("@channel",
"@all", "@here", acted on by Mattermost in webhook posts), no markdown link."""

from __future__ import annotations

import pytest

from mlteam.notifications import chat
from mlteam.notifications.channels.payloads import slack_escape, teams_escape


@pytest.mark.parametrize("escape", [chat.escape, slack_escape, teams_escape])
@pytest.mark.parametrize("typed", ["@channel ship it", "ping @all", "@here"])
def test_no_channel_wide_mention(escape, typed):
    shown = escape(typed)
    for word in ("@channel", "@all", "@here"):
        assert word not in shown
    assert shown.replace("\u2060", "") == typed  # reads the same


def test_no_link_in_personal_messages():
    shown = chat.escape("[Click me](https://evil.example.com) <b>")
    assert "](" not in shown and "[" not in shown
    assert "<" not in shown
