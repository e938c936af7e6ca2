"""A chat message in each platform's format, from one plain description of it.

`Message` says what to tell (a title, sections of linked lines, facts, a footer, a
button), already worded in the channel's language; `slack_payload` and
`teams_payload` lay it out:

- Slack: `{"text": fallback,
  "blocks": [...]}` with a header block (plain text, at most 150 characters),
  section blocks in mrkdwn (at most 3,000 characters each; links `<url|text>`,
  with &, < and > escaped in anything a person typed) and a context block; at
  most 50 blocks.
- Mattermost, whose incoming webhooks take Slack's `text` but not its blocks:
  `{"text": <the whole message in Markdown>}` (links `[text](url)`), at most
  16,383 characters.
- Microsoft Teams through a Workflows webhook ("When a Teams webhook request is
  received"; the retired Office 365 connectors' MessageCard is not accepted
  there): `{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <Adaptive Card 1.4>}]}`
  with TextBlocks (markdown links `[text](url)`), a FactSet and Action.OpenUrl.

tests/notifications/channels/schemas/ holds the JSON schemas both are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SLACK_HEADER_LIMIT = 150
SLACK_TEXT_LIMIT = 3000
SLACK_FIELD_LIMIT = 2000
SLACK_FIELDS_PER_SECTION = 10
SLACK_BLOCK_LIMIT = 50
MATTERMOST_TEXT_LIMIT = 16383
ADAPTIVE_CARD_VERSION = "1.4"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ELLIPSIS = "…"
LINE_LIMIT = 150  # a deliverable's name in a list


@dataclass(frozen=True)
class Line:
    text: str  # what a person typed or a name: escaped for each platform
    url: str = ""
    detail: str = ""  # worded by us (owner, due day): escaped all the same


@dataclass(frozen=True)
class Group:
    """Lines under a name of their own within a section (a role's work)."""

    name: str
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[Line] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)  # after `lines`
    more: str = ""  # "and 4 more", when the lines were cut short


@dataclass(frozen=True)
class Message:
    title: str
    summary: str  # the notification's text (Slack's fallback), one sentence
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    button: tuple[str, str] | None = None  # (label, absolute URL)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


# --- Slack and Mattermost --------------------------------------------------------------


# A word joiner after "@" keeps typed text ("@channel", "@all", "@here") from
# notifying a whole channel: Mattermost acts on them in webhook posts.
NO_MENTION = "@\u2060"


def slack_escape(text: str) -> str:
    """The three characters Slack's mrkdwn reserves, as its docs say to escape them,
    and no channel-wide mention."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("@", NO_MENTION)
    )


def _slack_line(line: Line) -> str:
    label = slack_escape(_cut(line.text, LINE_LIMIT)).replace("|", "¦")  # "|" ends a link's address
    text = f"<{line.url}|{label}>" if line.url else label
    if line.detail:
        text = f"{text} · {slack_escape(line.detail)}"
    return f"• {text}"


def _slack_rows(section: Section) -> list[str]:
    rows = [_slack_line(line) for line in section.lines]
    for group in section.groups:
        rows.append(f"_{slack_escape(group.name)}_")
        rows.extend(_slack_line(line) for line in group.lines)
    return rows


def _slack_section(section: Section) -> dict:
    text = f"*{slack_escape(section.heading)}*"
    for row in _slack_rows(section):
        candidate = f"{text}\n{row}"
        if len(candidate) > SLACK_TEXT_LIMIT - 300:  # room for "and N more"
            text = f"{text}\n{ELLIPSIS}"  # the project page has the rest
            break
        text = candidate
    if section.more:
        text = f"{text}\n_{slack_escape(section.more)}_"
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_TEXT_LIMIT)}}


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(message.title, SLACK_HEADER_LIMIT),
                "emoji": True,
            },
        }
    ]
    if message.intro:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _cut(slack_escape(message.intro), SLACK_TEXT_LIMIT),
                },
            }
        )
    if message.facts:
        for start in range(0, len(message.facts), SLACK_FIELDS_PER_SECTION):
            chunk = message.facts[start : start + SLACK_FIELDS_PER_SECTION]
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {
                            "type": "mrkdwn",
                            "text": _cut(
                                f"*{slack_escape(title)}*\n{slack_escape(value)}",
                                SLACK_FIELD_LIMIT,
                            ),
                        }
                        for title, value in chunk
                    ],
                }
            )
    blocks.extend(_slack_section(section) for section in message.sections)
    footer = []
    if message.button:
        label, url = message.button
        footer.append(f"<{url}|{slack_escape(label)}>")
    if message.footer:
        footer.append(slack_escape(message.footer))
    if footer:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": _cut(" · ".join(footer), SLACK_TEXT_LIMIT)}
                ],
            }
        )
    return {
        "text": _cut(slack_escape(message.summary), SLACK_TEXT_LIMIT),
        "blocks": blocks[:SLACK_BLOCK_LIMIT],
    }


# --- Microsoft Teams (Workflows) -----------------------------------------------------


def teams_escape(text: str) -> str:
    """Text in a TextBlock is markdown: brackets would start a link, an HTML-like
    tag may be dropped, and a leading "-" or "1." would start a list. Mattermost's
    messages use it too (no channel-wide mention: NO_MENTION)."""
    return (
        str(text)
        .replace("[", "(")
        .replace("]", ")")
        .replace("<", "\u2039")
        .replace(">", "\u203a")
        .replace("\n", " ")
        .replace("@", NO_MENTION)
    )


def _teams_line(line: Line) -> str:
    label = teams_escape(_cut(line.text, LINE_LIMIT))
    text = f"[{label}]({line.url})" if line.url else label
    if line.detail:
        text = f"{text} · {teams_escape(line.detail)}"
    return f"- {text}"


def _text_block(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_payload(message: Message) -> dict:
    body: list[dict] = [_text_block(teams_escape(message.title), size="Medium", weight="Bolder")]
    if message.intro:
        body.append(_text_block(teams_escape(message.intro)))
    if message.facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": teams_escape(title), "value": teams_escape(value)}
                    for title, value in message.facts
                ],
            }
        )
    for section in message.sections:
        body.append(_text_block(teams_escape(section.heading), weight="Bolder", spacing="Medium"))
        if section.lines:
            body.append(_text_block("\n".join(_teams_line(line) for line in section.lines)))
        for group in section.groups:
            body.append(_text_block(teams_escape(group.name), isSubtle=True, spacing="Small"))
            body.append(
                _text_block("\n".join(_teams_line(line) for line in group.lines), spacing="None")
            )
        if section.more:
            body.append(_text_block(teams_escape(section.more), isSubtle=True, spacing="None"))
    if message.footer:
        body.append(_text_block(teams_escape(message.footer), isSubtle=True, size="Small"))
    card: dict = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "fallbackText": message.summary,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if message.button:
        label, url = message.button
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# --- Mattermost ------------------------------------------------------------------------


def mattermost_payload(message: Message) -> dict:
    """The message as one Markdown text (Mattermost shows `text`, not Slack's blocks)."""
    parts = [f"#### {teams_escape(message.title)}"]
    if message.intro:
        parts.append(teams_escape(message.intro))
    if message.facts:
        parts.append(
            "\n".join(
                f"**{teams_escape(title)}:** {teams_escape(value)}"
                for title, value in message.facts
            )
        )
    for section in message.sections:
        rows = [f"**{teams_escape(section.heading)}**"]
        rows.extend(_teams_line(line) for line in section.lines)
        for group in section.groups:
            rows.append(f"*{teams_escape(group.name)}*")
            rows.extend(_teams_line(line) for line in group.lines)
        if section.more:
            rows.append(f"*{teams_escape(section.more)}*")
        parts.append("\n".join(rows))
    footer = []
    if message.button:
        label, url = message.button
        footer.append(f"[{teams_escape(label)}]({url})")
    if message.footer:
        footer.append(teams_escape(message.footer))
    if footer:
        parts.append(" · ".join(footer))
    return {"text": _cut("\n\n".join(parts), MATTERMOST_TEXT_LIMIT)}
