"""Writes for projects and teams.

Every service validates, saves, bumps the project's version and records a
`TeamChange` in one transaction. Services that change an existing project take
the `version` the caller's form was drawn from; a stale version, or an archived
project, is refused with a `ValidationError` the view shows as a form error.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable, Iterable
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from mlteam import cache
from mlteam.history import history_announce
from mlteam.people import is_anonymised_name, is_deactivated, is_pending_invitee, person_name
from mlteam.versions import claim_version

from .models import (
    Membership,
    Project,
    ProjectStatus,
    Role,
    RoleAssignment,
    TeamChange,
    TeamChangeAction,
)
from .tokens import invitation_token_generator

logger = logging.getLogger(__name__)

DEACTIVATED_MESSAGE = _("This account is deactivated. An admin can reactivate it.")
INVITATION_USED_MESSAGE = _("This invitation no longer works.")
STALE_MESSAGE = _(
    "Someone else changed this project while you were editing it. What you entered is "
    "kept below over the latest version; check it and try again."
)
ARCHIVED_MESSAGE = _("This project is archived. Restore it before changing it.")
ROLE_STALE_MESSAGE = _(
    "Someone else changed this role while you were editing it. Nothing was saved; "
    "open it again to see the latest version."
)


def _claim_version(project: Project, version: int | None, *, allow_archived: bool = False) -> None:
    """`claim_version` for a project, which also refuses an archived project
    (unless `allow_archived`: restoring one) and then says so rather than "stale"."""
    active = None if allow_archived else Project.objects.filter(archived_at__isnull=True)
    try:
        claim_version(project, version, message=STALE_MESSAGE, rows=active)
    except ValidationError:
        archived = Project.objects.filter(pk=project.pk, archived_at__isnull=False).exists()
        if archived and not allow_archived:
            raise ValidationError(ARCHIVED_MESSAGE, code="archived") from None
        raise


def _record(
    project: Project,
    actor,
    action: str,
    *,
    person=None,
    role=None,
    payload: dict | None = None,
) -> None:
    """The one way a team change is written (payload: see `TeamChange`)."""
    entry = TeamChange.new(
        actor=actor, project=project, action=action, person=person, role=role, payload=payload
    )
    entry.save()
    history_announce(TeamChange, [entry])


# Project fields whose history says only that they changed (long text).
CHANGED_ONLY = {"business_problem"}


def _stored(value):
    """A value as a project edit's changes keep it: ISO dates, codes, names, lists of names."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "__iter__"):
        return sorted(display_name(item) for item in value)
    return display_name(value)


def display_name(item) -> str:
    if isinstance(item, Role):
        return str(item.name)
    if hasattr(item, "get_username"):
        return person_name(item)
    return str(item)


def project_edit_record(project: Project, actor, *, before: dict, after: dict) -> None:
    """Record an edit of the project's own fields (one that changed something)."""
    changes = project_changes(before, after)
    if changes:
        _record(project, actor, TeamChangeAction.PROJECT_UPDATED, payload={"changes": changes})


def project_changes(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose stored value differs."""
    changes = {}
    for name, value in after.items():
        old, new = _stored(before.get(name)), _stored(value)
        if old != new:
            changes[name] = None if name in CHANGED_ONLY else [old, new]
    return changes


@transaction.atomic
def project_create(
    *,
    name: str,
    actor=None,
    business_problem: str = "",
    managers: Iterable = (),
    status: str = ProjectStatus.PLANNING,
    start_date: date | None = None,
    target_date: date | None = None,
    required_roles: Iterable[Role] | None = None,
    escalation_days: int = 3,
) -> Project:
    project = Project(
        name=name,
        business_problem=business_problem,
        status=status,
        start_date=start_date,
        target_date=target_date,
        escalation_days=escalation_days,
    )
    project.full_clean()
    project.save()
    project.managers.set(list(managers))
    if required_roles is None:
        required_roles = Role.objects.filter(required_by_default=True)
    project.required_roles.set(list(required_roles))
    _record(project, actor, TeamChangeAction.PROJECT_CREATED)
    cache.project_added(project.pk)
    cache.person_changed(*project.managers.values_list("pk", flat=True))
    return project


PROJECT_FIELDS = (
    "name",
    "business_problem",
    "status",
    "start_date",
    "target_date",
    "escalation_days",
)


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor,
    version: int | None,
    managers: Iterable | None = None,
    required_roles: Iterable[Role] | None = None,
    **fields,
) -> Project:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"project_update() got unexpected fields {sorted(unknown)}")
    _claim_version(project, version)
    before = {field: getattr(project, field) for field in fields}
    after = dict(fields)
    if managers is not None:
        managers = list(managers)
        before["managers"], after["managers"] = list(project.managers.all()), managers
    if required_roles is not None:
        required_roles = list(required_roles)
        before["required_roles"] = list(project.required_roles.all())
        after["required_roles"] = required_roles
    for field, value in fields.items():
        setattr(project, field, value)
    project.full_clean()
    project.save()
    if managers is not None:
        project.managers.set(managers)
    if required_roles is not None:
        project.required_roles.set(required_roles)
    cache.project_changed(project.pk)
    cache.person_changed(*(user.pk for user in before.get("managers", []) + (managers or [])))
    project_edit_record(project, actor, before=before, after=after)
    return project


@transaction.atomic
def project_archive(*, project: Project, actor, version: int | None) -> Project:
    _claim_version(project, version)
    project.archived_at = timezone.now()
    project.save(update_fields=["archived_at"])
    _record(project, actor, TeamChangeAction.PROJECT_ARCHIVED)
    cache.project_changed(project.pk)
    return project


@transaction.atomic
def project_unarchive(*, project: Project, actor, version: int | None) -> Project:
    _claim_version(project, version, allow_archived=True)
    project.archived_at = None
    project.save(update_fields=["archived_at"])
    _record(project, actor, TeamChangeAction.PROJECT_UNARCHIVED)
    cache.project_changed(project.pk)
    return project


@transaction.atomic
def membership_add(*, project: Project, user, actor=None, version: int | None = None) -> Membership:
    _claim_version(project, version)
    if is_deactivated(user):
        raise ValidationError(DEACTIVATED_MESSAGE, code="inactive")
    membership = Membership(project=project, user=user)
    membership.full_clean()
    membership.save()
    _record(project, actor, TeamChangeAction.MEMBER_ADDED, person=user)
    cache.project_changed(project.pk)
    cache.person_changed(user.pk)
    return membership


@transaction.atomic
def member_staff(
    *,
    project: Project,
    user,
    role: Role | None,
    allocation_percent: int,
    actor=None,
    version: int | None = None,
) -> Membership:
    """Add `user` to the team and, given a `role`, give it to them: one step for
    the page, two changes on the record (`membership_add`, `role_assign`), both
    saved or neither."""
    membership = membership_add(project=project, user=user, actor=actor, version=version)
    if role is not None:
        role_assign(
            membership=membership,
            role=role,
            allocation_percent=allocation_percent,
            actor=actor,
            version=project.version,  # as membership_add moved it on
        )
    return membership


@transaction.atomic
def member_invite(
    *,
    project: Project,
    email: str,
    actor,
    version: int | None,
    first_name: str = "",
    last_name: str = "",
    accept_url: Callable[[str, str], str],
) -> tuple[Membership, bool]:
    """Add the person with this email, creating an inactive account if they are new.

    Returns the membership and whether an invitation email goes out (True) or an
    existing, active account was simply added (False).

    A new account gets an email with a link to choose a password (built by
    `accept_url(uidb64, token)`), sent once the transaction has committed.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email).strip()
    existing = User.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is not None and existing.is_active:
        return membership_add(project=project, user=existing, actor=actor, version=version), False
    if existing is not None and not is_pending_invitee(existing):
        raise ValidationError(DEACTIVATED_MESSAGE, code="inactive")

    _claim_version(project, version)
    user = existing or _new_inactive_user(email=email, first_name=first_name, last_name=last_name)
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:  # else: invited before, so send the invitation again
        membership = Membership(project=project, user=user)
        membership.full_clean()
        membership.save()
    _record(project, actor, TeamChangeAction.MEMBER_INVITED, person=user)
    cache.project_changed(project.pk)
    cache.person_changed(user.pk)

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = accept_url(uid, invitation_token_generator.make_token(user))
    language = translation.get_language()
    transaction.on_commit(
        lambda: _send_invitation(
            user=user, project=project, inviter=actor, link=link, language=language
        )
    )
    return membership, True


def _new_inactive_user(*, email: str, first_name: str, last_name: str):
    User = get_user_model()
    base = re.sub(r"[^\w.@+-]", "", email.split("@", 1)[0])[:140] or "person"
    if is_anonymised_name(base):  # reserved for anonymised accounts (mlteam.people)
        base = f"person-{base}"[:140]
    username, suffix = base, 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{base}{suffix}"
    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name, is_active=False
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def _send_invitation(*, user, project: Project, inviter, link: str, language: str | None) -> None:
    context = {
        "user": user,
        "project": project,
        "inviter": inviter.get_full_name() or inviter.get_username(),
        "link": link,
    }
    with translation.override(language):
        subject = " ".join(render_to_string("emails/invitation_subject.txt", context).split())
        text = render_to_string("emails/invitation.txt", context)
        html = render_to_string("emails/invitation.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, BadHeaderError):
        # The invitation stands; inviting the same address again resends it.
        logger.exception("Could not send the invitation to user %s", user.pk)


@transaction.atomic
def invitation_accept(*, user, password: str) -> None:
    """Set the invited person's password and activate the account, once.

    A conditional UPDATE claims the invitation: it matches only while the account
    is still the pending invitation `user` was loaded as (inactive, never signed
    in, the same unusable password), so of two uses of one link exactly one wins.
    """
    if not is_pending_invitee(user):
        raise ValidationError(INVITATION_USED_MESSAGE, code="not_invited")
    pending_password = user.password
    user.set_password(password)
    claimed = (
        get_user_model()
        .objects.filter(
            pk=user.pk, is_active=False, last_login__isnull=True, password=pending_password
        )
        .update(password=user.password, is_active=True)
    )
    if claimed != 1:
        user.password = pending_password
        raise ValidationError(INVITATION_USED_MESSAGE, code="not_invited")
    user.is_active = True
    cache.bump()  # one more active person, on every dashboard that lists them


@transaction.atomic
def membership_remove(*, membership: Membership, actor, version: int | None) -> None:
    """Take a person off a project. Their deliverables there lose their owner."""
    project = membership.project
    _claim_version(project, version)
    project.deliverables.filter(owner_id=membership.user_id).update(owner=None)
    person = membership.user
    membership.delete()
    if is_pending_invitee(person) and not person.memberships.exists():
        # Withdraw the invitation: a new unusable password ends every link sent.
        person.set_unusable_password()
        person.save(update_fields=["password"])
    _record(project, actor, TeamChangeAction.MEMBER_REMOVED, person=person)
    cache.project_changed(project.pk)
    cache.person_changed(person.pk)


@transaction.atomic
def role_assign(
    *,
    membership: Membership,
    role: Role,
    allocation_percent: int = 100,
    actor=None,
    version: int | None = None,
) -> RoleAssignment:
    _claim_version(membership.project, version)
    # A deactivated person stays on their teams with the roles they held (their name
    # on the history), but takes on no new role: it would show as filled.
    if is_deactivated(membership.user):
        raise ValidationError(DEACTIVATED_MESSAGE, code="inactive")
    assignment = RoleAssignment(
        membership=membership, role=role, allocation_percent=allocation_percent
    )
    assignment.full_clean()
    assignment.save()
    _record(
        membership.project,
        actor,
        TeamChangeAction.ROLE_ASSIGNED,
        person=membership.user,
        role=role,
        payload={"allocation": allocation_percent},
    )
    cache.project_changed(membership.project_id)
    return assignment


@transaction.atomic
def assignment_update(
    *, assignment: RoleAssignment, allocation_percent: int, actor, version: int | None
) -> RoleAssignment:
    project = assignment.membership.project
    _claim_version(project, version)
    before = assignment.allocation_percent
    assignment.allocation_percent = allocation_percent
    assignment.full_clean()
    assignment.save(update_fields=["allocation_percent"])
    _record(
        project,
        actor,
        TeamChangeAction.ASSIGNMENT_CHANGED,
        person=assignment.membership.user,
        role=assignment.role,
        payload={"allocation": [before, allocation_percent]},
    )
    cache.project_changed(project.pk)
    return assignment


@transaction.atomic
def role_unassign(*, assignment: RoleAssignment, actor, version: int | None) -> None:
    membership = assignment.membership
    _claim_version(membership.project, version)
    role = assignment.role
    assignment.delete()
    _record(
        membership.project,
        actor,
        TeamChangeAction.ROLE_UNASSIGNED,
        person=membership.user,
        role=role,
    )
    cache.project_changed(membership.project_id)


# --- the role catalogue (edited in the Django admin) ------------------------------------

ROLE_FIELDS = (
    "name",
    "slug",
    "summary",
    "knowledge_and_skills",
    "required_by_default",
    "position",
)


@transaction.atomic
def role_create(**fields) -> Role:
    """Add a role to the catalogue."""
    unknown = set(fields) - set(ROLE_FIELDS)
    if unknown:
        raise TypeError(f"role_create() got unexpected fields {sorted(unknown)}")
    role = Role(**fields)
    role.full_clean()
    role.save()
    cache.catalogue_changed()
    return role


@transaction.atomic
def role_update(*, role: Role, version: int | None, **fields) -> Role:
    """Change a catalogue role if it is still at `version` (the one the form was drawn from)."""
    unknown = set(fields) - set(ROLE_FIELDS)
    if unknown:
        raise TypeError(f"role_update() got unexpected fields {sorted(unknown)}")
    claim_version(role, version, message=ROLE_STALE_MESSAGE)
    for field, value in fields.items():
        setattr(role, field, value)
    role.full_clean()
    role.save()
    cache.catalogue_changed()
    return role
