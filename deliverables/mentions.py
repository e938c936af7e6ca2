"""`@username` mentions in comments, and the part of the reminder digest that
tells people they were mentioned.

`services.comment_mentions_record` decides who a comment mentions (people who
may see its deliverable) and records a `CommentMention` for each; this module
reads the names out of the text and registers `MentionDigestSection`, which
puts each mention in the person's next digest, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, Q, Value, When
from django.dispatch import Signal
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import ngettext_lazy

from mlteam.people import person_name

from .models import CommentMention, Deliverable, Digest, comment_shown
from .reminders import DigestSection, PlannedDigest

# Sent by `services.comment_mentions_record` inside its transaction with the
# mentions new with the call (`mentions`, saved CommentMention rows) and the
# `comment` (its deliverable loaded): the in-app inbox (mlteam.notifications)
# connects to it, so this app never imports it. A receiver's failure is the writer's.
mentions_recorded = Signal()

# A comment names at most this many people (more is not a mention but a broadcast).
MENTION_LIMIT = 20

# "@" at the start or after a space or punctuation (not inside an address such as
# ann@example.com), then a username's characters; a trailing "." or "-" ends the
# sentence rather than the name.
MENTION = re.compile(r"(?<![\w.@+-])@([\w.+-]+)")


def mentioned_usernames(text: str) -> list[str]:
    """The usernames `text` mentions, each once, in the order written (lowercase)."""
    names: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".-").lower()
        if name and name not in names:
            names.append(name)
    return names[:MENTION_LIMIT]


def people_named(text: str) -> list:
    """The active people whose usernames `text` mentions (case does not matter)."""
    names = mentioned_usernames(text)
    if not names:
        return []
    condition = reduce(or_, (Q(username__iexact=name) for name in names))
    return list(get_user_model().objects.filter(condition, is_active=True).order_by("pk"))


@dataclass
class MentionItem:
    mention_id: int


class MentionDigestSection(DigestSection):
    """People mentioned in a comment hear of it in their next digest."""

    name = "mentions"
    text_template = "deliverables/emails/digest_mentions.txt"
    html_template = "deliverables/emails/digest_mentions.html"

    def recipients(self, today: date) -> Iterable[int]:
        # Uses mention_untold_idx. Mentions in deleted comments are never told.
        return (
            CommentMention.objects.filter(comment_shown("comment__"), digest__isnull=True)
            .values_list("person_id", flat=True)
            .distinct()
            .order_by()
        )

    def plan(self, planned: dict[int, PlannedDigest], managed: dict[int, list[int]]) -> None:
        if not planned:
            return
        untold = CommentMention.objects.filter(
            comment_shown("comment__"), digest__isnull=True, person_id__in=list(planned)
        ).values_list("pk", "person_id")
        for pk, person_id in untold.order_by("pk"):
            planned[person_id].extra.setdefault(self.name, []).append(MentionItem(pk))

    def save(self, saved: list[tuple[PlannedDigest, int]]) -> None:
        """Claim the planned mentions for the digests this sweep inserted: one
        UPDATE, and only rows still untold (a rival sweep's claim stands)."""
        digest_of = {
            item.mention_id: digest_id
            for planned, digest_id in saved
            for item in planned.extra.get(self.name, [])
        }
        if not digest_of:
            return
        CommentMention.objects.filter(pk__in=list(digest_of), digest__isnull=True).update(
            digest_id=Case(*(When(pk=pk, then=Value(d)) for pk, d in digest_of.items()))
        )

    def owed(self, carrier: Digest, group: list[Digest]) -> list[CommentMention]:
        """The mentions still worth telling at send time: the comment is not deleted
        and still names the person, who may still see the deliverable."""
        recipient = carrier.recipient
        if not recipient.is_active or not recipient.email:
            return []
        rows = list(
            CommentMention.objects.filter(comment_shown("comment__"), digest__in=group)
            .select_related(
                "comment__author", "comment__deliverable__type", "comment__deliverable__project"
            )
            .order_by("created_at", "pk")
        )
        if not rows:
            return []
        visible = set(
            Deliverable.objects.visible_to(recipient)
            .filter(pk__in={row.comment.deliverable_id for row in rows})
            .values_list("pk", flat=True)
        )
        name = recipient.get_username().lower()
        return [
            row
            for row in rows
            if row.comment.deliverable_id in visible
            and name in mentioned_usernames(row.comment.body)
        ]

    def context(self, owed: list[CommentMention]) -> dict:
        return {
            "mentions": [
                {
                    "author": person_name(row.comment.author) if row.comment.author else "",
                    "deliverable": row.comment.deliverable.label,
                    "project": row.comment.deliverable.project.name,
                    "excerpt": Truncator(" ".join(row.comment.body.split())).chars(200),
                    "url": settings.SITE_URL
                    + reverse("deliverables:detail", args=[row.comment.deliverable_id])
                    + f"#comment-{row.comment_id}",
                }
                for row in owed
            ]
        }

    def subject_counts(self, context: dict) -> list[tuple]:
        return [
            (
                ngettext_lazy("%(count)s mention of you", "%(count)s mentions of you", "count"),
                len(context.get("mentions", [])),
            )
        ]

    def describe(self, items: list[MentionItem], names: dict) -> list[str]:
        return [f"mention: {item.mention_id}" for item in items]
