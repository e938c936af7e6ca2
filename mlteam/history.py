"""History entries: who changed what, and when.

Each aggregate keeps its own history table (a deliverable's changes, a project's
team changes, a review's changes), all built on `HistoryEntry`: the actor, the
moment, a `kind` of change declared by the table, and a JSON `payload` holding
the change as structured values, never as sentences. A value is a small dict:

    {"text": "..."}                 text as typed (a title, a reason, a comment)
    {"date": "2026-11-27"}           a day, worded in the reader's date format
    {"id": 7, "name": "Ann Lee"}     a person, with their name at the time
    a table's own shapes             e.g. {"status": "blocked", "reason": "..."}

and is worded in the reader's language only when shown (`render_value`, which a
table extends for its own shapes), as Saleor's order events are. Entries with a
"before" and "after" keep them under those keys; a table may add others.
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import models, transaction
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from mlteam.dates import format_day
from mlteam.people import stored_name

logger = logging.getLogger(__name__)

# Free text kept in a history entry is cut here: the entry names the change, the
# record itself (the deliverable, the comment) keeps the full text.
TEXT_LIMIT = 300


# Sent once the transaction that wrote history entries has committed: `sender` is the
# history table, `entries` the rows written (saved, with their pks). Surfaces that
# act on changes (webhooks, chat: mlteam.notifications) connect to it in their
# AppConfig.ready, so the apps that write history never import them. Entries are
# written with `bulk_create` too, which sends no post_save: hence this signal.
history_written = Signal()

# Sent at once, inside the transaction that writes the entries (same arguments):
# for receivers whose own rows must commit or roll back with the change (the
# in-app inbox). A receiver's failure is the writer's: keep receivers to a few
# plain writes, no network, no reads the entries do not already carry.
history_recorded = Signal()


def history_announce(model: type[models.Model], entries) -> None:
    """Send `history_recorded` for `entries` now, and `history_written` after the
    current transaction commits (at once outside one). A `history_written`
    receiver's failure is logged, never the writer's."""
    entries = [entry for entry in entries if entry.pk is not None]
    if entries:
        history_recorded.send(sender=model, entries=entries)
        transaction.on_commit(lambda: _announce(model, entries))


def _announce(model: type[models.Model], entries: list) -> None:
    for receiver, outcome in history_written.send_robust(sender=model, entries=entries):
        if isinstance(outcome, Exception):
            logger.error("history_written receiver %r failed", receiver, exc_info=outcome)


def text_value(text: str, *, limit: int = TEXT_LIMIT) -> dict | None:
    return {"text": str(text)[:limit]} if text else None


def date_value(day: date | None) -> dict | None:
    return {"date": day.isoformat()} if day else None


def person_value(user) -> dict | None:
    """A person: their id, and their name as it was then (the full name, else the
    username); anonymising them rewrites the name (`mlteam.services`)."""
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def render_value(value: dict | None) -> str:
    """The shapes every history shares, in the reader's language: a day in their
    date format, a person's name ("Former member" once anonymised), text as typed."""
    if not value:
        return ""
    if "date" in value:
        try:
            return format_day(date.fromisoformat(value["date"]))
        except (TypeError, ValueError):
            return str(value["date"])
    if "name" in value:
        return stored_name(str(value["name"]))
    return str(value.get("text", ""))


class HistoryEntry(models.Model):
    """What every history table keeps; see the module's docstring for the payload.

    Null actor: a change made by the system (a command or task), never a deleted
    person (PROTECT: nobody a history names can be deleted).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    payload = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-pk"]

    @classmethod
    def new(cls, *, actor, before: dict | None = None, after: dict | None = None, **fields):
        """An unsaved entry (save it, or `bulk_create` several). A signed-out or
        missing actor is the system; empty sides are left out of the payload."""
        payload = dict(fields.pop("payload", None) or {})
        sides = {"before": before, "after": after}
        payload.update({side: value for side, value in sides.items() if value})
        return cls(
            actor=actor if actor is not None and actor.is_authenticated else None,
            payload=payload,
            **fields,
        )

    def render_value(self, value: dict | None) -> str:
        """One stored value in the reader's language; tables extend it for their shapes."""
        return render_value(value)

    @property
    def display_before(self) -> str:
        return self.render_value((self.payload or {}).get("before"))

    @property
    def display_after(self) -> str:
        return self.render_value((self.payload or {}).get("after"))
