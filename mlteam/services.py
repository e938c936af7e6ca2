"""Writes that are about the whole site rather than one app: the worker heartbeat,
and people leaving (deactivation, and anonymisation for a data-protection request).

People are never deleted (their history points at them: see docs/data-retention.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deliverables.models import DeliverableEvent, ReminderPreference
from deliverables.reviews.services import review_reads_rename_reader

from . import cache
from .accounts.selectors import session_keys_of
from .accounts.services import RevokeReason, people_tokens_revoke, sessions_end
from .models import Anonymisation, WorkerHeartbeat
from .notifications.models import NotificationPreference
from .notifications.services import deliveries_rename_person
from .people import anonymised_username, is_anonymised
from .selectors import (
    admin_log_entries,
    names_person,
    owner_name_events,
    person_history,
)


def worker_heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that `hostname` is alive; safe to run any number of times."""
    now = timezone.now()
    heartbeat, created = WorkerHeartbeat.objects.get_or_create(
        hostname=hostname, defaults={"seen_at": now, "beats": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(seen_at=now, beats=F("beats") + 1)
        heartbeat.refresh_from_db()
    return heartbeat


DEACTIVATE_SELF_MESSAGE = _("You cannot deactivate your own account.")


@transaction.atomic
def people_deactivate(*, people: Iterable, actor) -> list:
    """Switch these accounts off, keeping everything else (name, email, teams,
    ownership, history), sign them out everywhere and revoke their API tokens.
    Returns the people who were active until now; inactive ones (already
    deactivated, invited, anonymised) are left as they are.

    The acting admin among them is refused, before anything changes: an admin
    cannot lock themselves out.
    """
    people = list(people)
    if actor is not None and any(person.pk == actor.pk for person in people):
        raise ValidationError(DEACTIVATE_SELF_MESSAGE, code="self")
    User = get_user_model()
    ids = [person.pk for person in people if person.is_active]
    # Only the rows still active at this moment: of two admins deactivating the
    # same person at once, one does it.
    still_active = User.objects.select_for_update().filter(pk__in=ids, is_active=True)
    ids = list(still_active.values_list("pk", flat=True))
    User.objects.filter(pk__in=ids).update(is_active=False)
    cache.bump()  # who is active shows on every dashboard that lists them
    sessions_end(user_ids=ids)
    people_tokens_revoke(user_ids=ids, reason=RevokeReason.DEACTIVATED)
    deactivated = [person for person in people if person.pk in ids]
    for person in deactivated:
        person.is_active = False
    return deactivated


# --- anonymisation ------------------------------------------------------------------------

ALREADY_ANONYMISED_MESSAGE = _("This person was already anonymised.")
SUPERUSER_MESSAGE = _(
    "This person is a superuser. Take the superuser status away first, or confirm "
    "that you mean it (--force)."
)
REASON_MESSAGE = _("Say why the person is anonymised (for example, the request it answers).")
ANONYMISE_SELF_MESSAGE = _("You cannot anonymise your own account.")


def anonymisation_plan(user) -> dict:
    """What `person_anonymise` would change for `user`, and the history it keeps."""
    return {
        "username": anonymised_username(user.pk),
        "owner names in history": owner_name_events(user).count(),
        "admin log entries": admin_log_entries(user).count(),
        "sessions": len(session_keys_of(user_ids=[user.pk])),
        "reminder settings": ReminderPreference.objects.filter(user=user).count(),
        "groups": user.groups.count(),
        "kept": person_history(user),
    }


def _rename_owner(user, names: set[str], placeholder: str) -> None:
    """Owner changes keep the owner's name as it was then: it becomes the placeholder."""
    events = list(owner_name_events(user).only("payload"))
    for event in events:
        for side in ("before", "after"):
            if names_person(event.payload.get(side), user, names):
                event.payload[side]["name"] = placeholder
    DeliverableEvent.objects.bulk_update(events, ["payload"])


@transaction.atomic
def _rename_in_project_changes(names: set[str], placeholder: str) -> None:
    """Project edits that changed the managers keep their names (TeamChange.changes)."""
    from roles.models import TeamChange

    edits = TeamChange.objects.filter(payload__changes__has_key="managers").only("payload")
    for change in edits:
        pair = change.changes["managers"]
        renamed = [[placeholder if name in names else name for name in side] for side in pair]
        if renamed != pair:
            change.payload["changes"]["managers"] = renamed
            change.save(update_fields=["payload"])


def person_anonymise(
    *, user, reason: str, run_by=None, operator: str = "", force: bool = False
) -> Anonymisation:
    """Replace what identifies `user` and keep every row of their history, which
    then shows them as "Former member" (`mlteam.people`). One transaction: all of it
    or none.

    1. Lock the account; refuse an anonymised account, a superuser (unless
       `force`), the person running it, and an empty reason.
    2. Rename them in the history that names them as text: owner changes, project
       edits that changed the managers, the admin's log of changes to their account,
       and the reviews they read.
    3. The account: username to its placeholder, names and email cleared, an
       unusable password (which also ends any invitation link), inactive, no staff
       or superuser status, groups or permissions; their reminder settings go.
    4. End their sessions, revoke their API tokens and record the anonymisation.

    What they typed (comments, answers, reviews) is kept as written: it is the
    team's record of the work (docs/data-retention.md says how to edit it).
    """
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    if is_anonymised(user) or Anonymisation.objects.filter(user=user).exists():
        raise ValidationError(ALREADY_ANONYMISED_MESSAGE, code="already_anonymised")
    if user.is_superuser and not force:
        raise ValidationError(SUPERUSER_MESSAGE, code="superuser")
    if run_by is not None and run_by.pk == user.pk:
        raise ValidationError(ANONYMISE_SELF_MESSAGE, code="self")
    reason = reason.strip()
    if not reason:
        raise ValidationError(REASON_MESSAGE, code="reason")

    plan = anonymisation_plan(user)
    placeholder = plan["username"]
    names = {name for name in (user.get_full_name(), user.get_username()) if name}
    _rename_owner(user, names, placeholder)
    admin_log_entries(user).update(object_repr=placeholder)
    _rename_in_project_changes(names, placeholder)
    deliveries_rename_person(user=user, names=names, placeholder=placeholder)
    review_reads_rename_reader(reader=user, name=placeholder)
    cache.bump()  # their name leaves every dashboard and history

    user.username = placeholder
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    ReminderPreference.objects.filter(user=user).delete()
    # Their own chat address (a secret of theirs) goes with their settings.
    NotificationPreference.objects.filter(person=user).delete()
    sessions_end(user_ids=[user.pk])
    people_tokens_revoke(user_ids=[user.pk], reason=RevokeReason.DEACTIVATED)

    summary = {key: value for key, value in plan.items() if key != "username"}
    record = Anonymisation(
        user=user, run_by=run_by, operator=operator[:150], reason=reason, summary=summary
    )
    record.full_clean()
    record.save()
    return record
