"""A JSON schema of the Slack messages MLTeam posts to incoming webhooks, written
from Slack's Block Kit reference (docs.slack.dev/reference/block-kit):

- a message: `text` (the notification fallback, required with blocks for
  accessibility) and `blocks`, at most 50;
- header block: a `plain_text` text object of at most 150 characters;
- section block: a text object of at most 3000 characters (`mrkdwn` or
  `plain_text`), or up to 10 `fields` of at most 2000 characters each;
- divider block: nothing but its type;
- context block: 1 to 10 elements, text objects or images;
- text objects: `type` plain_text (with optional `emoji`) or mrkdwn (with
  optional `verbatim`), and a non-empty `text`;
- block_id: at most 255 characters.

Only the block types MLTeam uses are allowed, so a new one must be added here
from the docs before it can be sent.
"""

from __future__ import annotations

import re

import jsonschema

_BLOCK_ID = {"type": "string", "maxLength": 255}

_PLAIN = {
    "type": "object",
    "properties": {
        "type": {"const": "plain_text"},
        "text": {"type": "string", "minLength": 1},
        "emoji": {"type": "boolean"},
    },
    "required": ["type", "text"],
    "additionalProperties": False,
}

_MRKDWN = {
    "type": "object",
    "properties": {
        "type": {"const": "mrkdwn"},
        "text": {"type": "string", "minLength": 1},
        "verbatim": {"type": "boolean"},
    },
    "required": ["type", "text"],
    "additionalProperties": False,
}


def _text(limit: int) -> dict:
    return {
        "oneOf": [
            {
                **_PLAIN,
                "properties": {
                    **_PLAIN["properties"],
                    "text": {"type": "string", "minLength": 1, "maxLength": limit},
                },
            },
            {
                **_MRKDWN,
                "properties": {
                    **_MRKDWN["properties"],
                    "text": {"type": "string", "minLength": 1, "maxLength": limit},
                },
            },
        ]
    }


SLACK_MESSAGE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 40000},
        "blocks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "header"},
                            "text": {
                                **_PLAIN,
                                "properties": {
                                    **_PLAIN["properties"],
                                    "text": {"type": "string", "minLength": 1, "maxLength": 150},
                                },
                            },
                            "block_id": _BLOCK_ID,
                        },
                        "required": ["type", "text"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "section"},
                            "text": _text(3000),
                            "fields": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 10,
                                "items": _text(2000),
                            },
                            "block_id": _BLOCK_ID,
                        },
                        "required": ["type"],
                        "anyOf": [{"required": ["text"]}, {"required": ["fields"]}],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {"type": {"const": "divider"}, "block_id": _BLOCK_ID},
                        "required": ["type"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "context"},
                            "elements": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 10,
                                "items": {"oneOf": [_PLAIN, _MRKDWN]},
                            },
                            "block_id": _BLOCK_ID,
                        },
                        "required": ["type", "elements"],
                        "additionalProperties": False,
                    },
                ]
            },
        },
    },
    "required": ["text", "blocks"],
    "additionalProperties": False,
}

# A mrkdwn link, <url|text>, whose text holds no raw control character.
LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>]+)>")


def validate_slack_message(message: dict) -> None:
    """Raise jsonschema.ValidationError unless `message` is a Slack message as the
    docs describe it; also that no text holds an unescaped "<" or ">" or "&"
    outside a link (mrkdwn's control characters)."""
    jsonschema.validate(message, SLACK_MESSAGE_SCHEMA)
    for text in _texts(message):
        bare = LINK.sub("", text)
        assert "<" not in bare and ">" not in bare, f"unescaped angle bracket in {text!r}"
        assert not re.search(r"&(?!amp;|lt;|gt;)", bare), f"unescaped & in {text!r}"


def _texts(message: dict) -> list[str]:
    """The mrkdwn texts (plain_text shows its characters as they are)."""
    objects = [block["text"] for block in message["blocks"] if "text" in block]
    objects += [element for block in message["blocks"] for element in block.get("elements", [])]
    return [message["text"]] + [item["text"] for item in objects if item["type"] == "mrkdwn"]
