"""Messages for a person's own chat, in Slack's format (Mattermost takes it too).

A message is `{"text": fallback, "blocks": [...]}` (Slack Block Kit): the blocks
are what Slack shows, the text is its notification and what Mattermost, which
ignores blocks, shows. Links are mrkdwn (`<url|text>`), and every text from a
person or the database is escaped (&, <, >) so it cannot form a link or a mention.

The limits are Slack's (docs.slack.dev, Block Kit reference): at most 50 blocks
in a message, 150 characters in a header, 3000 in a section's text, 10 elements
in a context block. Long digests are cut to fit, with a line saying how much
more there is and a link to the full list.

Plain parts first (`Message`): what a digest says is kept in the ledger as
plain, already worded lines, each naming the deliverable it is about, so that
lines about work the person may no longer see are dropped when it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.translation import gettext, ngettext

from mlteam.dates import format_day
from mlteam.people import person_name

MAX_BLOCKS = 50
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
CONTEXT_ELEMENTS = 10
# What Mattermost shows (it ignores blocks); Slack uses it for the notification.
FALLBACK_LIMIT = 4000


def escape(text: object) -> str:
    """Text as Slack's mrkdwn shows it literally (its three control characters), and
    as Mattermost's markdown does (it reads the same message): no "[text](url)"
    link and no channel-wide mention ("@channel": a word joiner after "@")."""
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("[", "(")
        .replace("]", ")")
        .replace("@", "@\u2060")
    )


def link(url: str, text: object) -> str:
    """A mrkdwn link; the text escaped, and "|" kept out of it (it ends the url part)."""
    label = escape(text).replace("|", "¦")
    return f"<{escape(url)}|{label}>" if url else label


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Message:
    """A chat message in plain parts. `sections`: {"heading", "lines": [{"text",
    "deliverable"}]}, the text already mrkdwn; `links`: [{"url", "text"}]."""

    title: str
    intro: str = ""
    sections: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)

    def as_data(self) -> dict:
        return {
            "title": self.title,
            "intro": self.intro,
            "sections": self.sections,
            "links": self.links,
        }

    @classmethod
    def from_data(cls, data: dict) -> Message:
        return cls(
            title=data.get("title", ""),
            intro=data.get("intro", ""),
            sections=list(data.get("sections") or []),
            links=list(data.get("links") or []),
        )

    def deliverable_ids(self) -> set[int]:
        return {
            line["deliverable"]
            for section in self.sections
            for line in section.get("lines", [])
            if line.get("deliverable")
        }

    def without(self, hidden: set[int]) -> Message:
        """The message without the lines about `hidden` deliverables (and sections
        left empty by that)."""
        if not hidden:
            return self
        sections = []
        for section in self.sections:
            lines = [line for line in section["lines"] if line.get("deliverable") not in hidden]
            if lines:
                sections.append({**section, "lines": lines})
        return Message(self.title, self.intro, sections, self.links)

    @property
    def is_empty(self) -> bool:
        return not any(section.get("lines") for section in self.sections)


def slack_payload(message: Message, *, more_url: str = "") -> dict:
    """The Block Kit message: a header, the intro, each section (its lines split
    into blocks of at most SECTION_LIMIT characters), and the links. Past
    MAX_BLOCKS, the rest is left out and a last section says how many lines were
    and links to `more_url` (a digest's My work)."""
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(message.title, HEADER_LIMIT)},
        }
    ]
    if message.intro:
        blocks.append(_section(message.intro))
    body: list[tuple[dict, int]] = []  # (block, how many lines it holds)
    for section in message.sections:
        chunks = _chunks(
            [f"*{escape(section['heading'])}*"] if section.get("heading") else [],
            [f"• {line['text']}" for line in section["lines"]],
        )
        body.append(({"type": "divider"}, 0))
        body.extend((_section(chunk), count) for chunk, count in chunks)
    tail: list[dict] = []
    if message.links:
        elements = [
            {"type": "mrkdwn", "text": link(item["url"], item["text"])}
            for item in message.links[:CONTEXT_ELEMENTS]
        ]
        tail.append({"type": "context", "elements": elements})
    room = MAX_BLOCKS - len(blocks) - len(tail)
    if len(body) > room:
        shown, left_out = body[: room - 1], body[room - 1 :]
        left = sum(count for _block, count in left_out)
        note = ngettext("And %(count)s more line.", "And %(count)s more lines.", left) % {
            "count": left
        }
        if more_url:
            note += " " + link(more_url, gettext("See them all"))
        body = [*shown, (_section(note), 0)]
    blocks += [block for block, _count in body] + tail
    return {"text": fallback_text(message), "blocks": blocks}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}}


def _chunks(heading: list[str], lines: list[str]) -> list[tuple[str, int]]:
    """Lines joined into texts of at most SECTION_LIMIT characters (the heading
    goes with the first); a single longer line is cut."""
    chunks: list[tuple[str, int]] = []
    current = list(heading)
    count = 0
    for line in lines:
        line = _cut(line, SECTION_LIMIT - 2 - (len(heading[0]) if heading else 0))
        if current and len("\n".join([*current, line])) > SECTION_LIMIT:
            chunks.append(("\n".join(current), count))
            current, count = [], 0
        current.append(line)
        count += 1
    if current:
        chunks.append(("\n".join(current), count))
    return chunks


def fallback_text(message: Message) -> str:
    """The whole message as one mrkdwn text (Mattermost shows this one)."""
    parts = [f"*{escape(message.title)}*"]
    if message.intro:
        parts.append(message.intro)
    for section in message.sections:
        lines = [f"*{escape(section['heading'])}*"] if section.get("heading") else []
        parts.append("\n".join([*lines, *(f"• {line['text']}" for line in section["lines"])]))
    if message.links:
        parts.append(" · ".join(link(item["url"], item["text"]) for item in message.links))
    text = "\n\n".join(parts)
    if len(text) <= FALLBACK_LIMIT:
        return text
    # Cut at a line's end, never inside a link; the blocks (Slack) hold the rest.
    cut = text.rfind("\n", 0, FALLBACK_LIMIT - 2)
    return text[: cut if cut > 0 else FALLBACK_LIMIT - 2] + "\n…"


# --- the daily digest -----------------------------------------------------------------------


def _days_late(days: int) -> str:
    return ngettext("%(days)s day late", "%(days)s days late", days) % {"days": days}


def _line(reminder, text: str) -> dict:
    return {"text": text, "deliverable": reminder.deliverable_id}


def digest_chat_message(context: dict) -> Message:
    """A digest in chat, from the email's context (`reminders.digest_context`) and
    in its language (the caller activates it): the same sections, lines and links.
    The registered sections (reviews, mentions) are their email text, escaped."""
    recipient = context.get("recipient")
    title = " ".join(render_to_string("emails/digest_subject.txt", context).split())
    intro = ""
    if context.get("late_days"):
        intro = escape(
            gettext(
                "Mail could not be delivered on %(days)s; this message brings those "
                "reminders, counted as of %(day)s."
            )
            % {"days": context["late_days"], "day": format_day(context["counted_on"])}
        )
    elif recipient is not None:
        intro = escape(gettext("Hello %(name)s,") % {"name": person_name(recipient)})
    sections = []

    def work(reminder, detail: str, *, who: str = "") -> dict:
        deliverable = reminder.deliverable
        where = who or f"{deliverable.project.name}, {deliverable.type.role.display_name}"
        return _line(
            reminder,
            f"{link(reminder.url, deliverable.label)} ({escape(where)}): {escape(detail)}",
        )

    if context.get("overdue"):
        sections.append(
            {
                "heading": gettext("Overdue"),
                "lines": [work(r, _days_late(r.days)) for r in context["overdue"]],
            }
        )
    if context.get("due_soon"):
        sections.append(
            {
                "heading": gettext("Due soon"),
                "lines": [
                    work(
                        r,
                        gettext("due today")
                        if r.days == 0
                        else ngettext("due in %(days)s day", "due in %(days)s days", r.days)
                        % {"days": r.days},
                    )
                    for r in context["due_soon"]
                ],
            }
        )
    if context.get("stale"):
        sections.append(
            {
                "heading": gettext("In progress with no update for a while"),
                "lines": [
                    work(
                        r,
                        ngettext(
                            "no update for %(days)s day", "no update for %(days)s days", r.days
                        )
                        % {"days": r.days},
                        who=r.deliverable.project.name,
                    )
                    for r in context["stale"]
                ],
            }
        )
    for project, roles in (context.get("escalations") or {}).items():
        lines = []
        for role, items in roles.items():
            for r in items:
                owner = r.deliverable.owner
                owner = person_name(owner) if owner else gettext("no owner")
                lines.append(work(r, _days_late(r.days), who=f"{role}, {owner}"))
        sections.append(
            {
                "heading": gettext("Well overdue on %(project)s") % {"project": project},
                "lines": lines,
            }
        )
    for template in context.get("section_text_templates", []):
        text = render_to_string(template, context).strip()
        if text:
            heading, _newline, rest = text.partition("\n")
            lines = [
                {"text": escape(line.strip()), "deliverable": None} for line in rest.split("\n")
            ]
            sections.append({"heading": heading.strip(), "lines": [x for x in lines if x["text"]]})
    links = [
        {"url": context["my_work_url"], "text": gettext("Your work")},
        {"url": context["chat_preferences_url"], "text": gettext("Change how these messages come")},
    ]
    return Message(title=title, intro=intro, sections=sections, links=links)


def entry_chat_message(*, message: str, about: str, url: str, settings_url: str) -> Message:
    """One inbox entry as it happens: what happened, linked to the thing it is about."""
    return Message(
        title=message,
        sections=[{"heading": "", "lines": [{"text": link(url, about), "deliverable": None}]}],
        links=[{"url": settings_url, "text": gettext("Change how these messages come")}],
    )


def chat_test_message(*, name: str, settings_url: str) -> Message:
    return Message(
        title=gettext("MLTeam test message"),
        intro=escape(
            gettext("Hello %(name)s, this chat is connected: your MLTeam messages will come here.")
            % {"name": name}
        ),
        links=[{"url": settings_url, "text": gettext("Notification settings")}],
    )
