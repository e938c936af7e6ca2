"""Dashboards cached until something they show changes: explicit versions.

Each thing a dashboard shows has a *version* in the cache, a random token that
the services replace when they change it (djangoproject.com's generation key,
Zulip's `flush_*` functions):

- `project:<id>`, one per project: the project, its team and roles, its
  deliverables with their checklists and history, its handbook
  (`project_changed`);
- `catalogue`: the roles, deliverable types and checklist templates that label
  every dashboard (`catalogue_changed`);
- `person:<id>`, one per person: what they may see and what waits for them
  personally: groups, permissions, superuser status, memberships, the projects
  they manage, the reviews waiting for them (`person_changed`);
- `projects`: every project at once, moved with each project's own version and
  when a project is added (`project_changed`, `project_added`): what an admin's
  dashboards hang on, as they show every project;
- `all`: everything, for a database restore, and for a rename or (de)activation,
  whose name and status show on every dashboard listing that person (`bump`).

A viewer's dashboard shows only the projects that viewer may see, so an entry is
valid while `all`, `catalogue`, the viewer's `person`, for admins `projects`, and
the `project` version of each project the viewer may see (archived ones
included) are what they were when it was computed; an admin's, who sees every
project, while `projects` is (one version instead of one per project). The entry is stored under the
viewer, the language and the page's own `parts`, with those versions beside the
result. Reading it costs two cache round trips and no query: one `get_many` for
the entry and the shared versions, one for the versions of the projects it
covers (listed in the entry). A change to a project therefore recomputes the
dashboards of the people who may see it, and nobody else's; a sign-in
(`last_login`) changes no version at all.

When a version moves: the services call the helpers below inside their
transaction. The version moves at once, so that later reads in the same
transaction (a command, a test) see the change, and again after the commit
(`transaction.on_commit`, once per transaction), so that a reader in another
process who read the versions between the first move and the commit, and so
computed from the rows before it, does not keep that result. A transaction that
rolls back costs one recompute. Django's own auth models, which the admin writes
directly, move versions through signals (`connect_auth_signals`).

What is cached is plain data: the pages hand `cached` frozen dataclasses of ids,
numbers, dates and labels already worded in the reader's language, never model
instances (a pickled instance comes back as a partial row, and carries whatever
it had loaded) nor `Page` objects. `cached` refuses them (`_PlainPickler`): an
error under `DEBUG` or `CACHE_PLAIN_DATA_ONLY` (the test settings), else logged
and served uncached.

Entries also expire after `TIMEOUT` seconds, a net for writes made outside the
services (psql, a shell). The cache is Django's: per process locally, Redis in
production (`CACHE_URL`), shared by every web worker. If it is unreachable,
writes still commit and pages are computed uncached.
"""

from __future__ import annotations

import io
import logging
import pickle
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Model
from django.utils import translation

T = TypeVar("T")
logger = logging.getLogger(__name__)

TIMEOUT = 300
EVERYTHING = "mlteam:v:all"
CATALOGUE = "mlteam:v:catalogue"
PROJECT_LIST = "mlteam:v:projects"


def project_key(pk: int) -> str:
    return f"mlteam:v:project:{pk}"


def person_key(pk: int) -> str:
    return f"mlteam:v:person:{pk}"


# --- moving versions ----------------------------------------------------------------------


def _move(keys: tuple[str, ...]) -> None:
    """Give these versions new tokens (one round trip). Never fails the write that
    caused it: with the cache unreachable, entries written before expire within
    TIMEOUT."""
    try:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=None)
    except Exception:
        logger.warning("Could not move the cache versions %s", keys, exc_info=True)


def _changed(keys: tuple[str, ...]) -> None:
    if not keys:
        return
    _move(keys)
    connection = transaction.get_connection()
    if connection.in_atomic_block and not any(
        isinstance(entry[1], partial) and entry[1].func is _move and entry[1].args == (keys,)
        for entry in connection.run_on_commit
    ):
        transaction.on_commit(partial(_move, keys))


def project_changed(*project_ids: int) -> None:
    """Something a dashboard shows about these projects changed."""
    if project_ids:
        _changed((PROJECT_LIST, *(project_key(pk) for pk in sorted(set(project_ids)))))


def project_added(project_id: int) -> None:
    """A new project: admins, who see every project, see one more."""
    project_changed(project_id)


def catalogue_changed() -> None:
    """A role, deliverable type or checklist template changed."""
    _changed((CATALOGUE,))


def person_changed(*user_ids: int) -> None:
    """What these people may see, or what waits for them, changed."""
    _changed(tuple(person_key(pk) for pk in sorted(set(user_ids))))


def bump() -> None:
    """Everything changed (a restore, a rename): every entry is recomputed."""
    _changed((EVERYTHING,))


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The projects a viewer's dashboard may show (`roles.selectors.dashboard_scope`):
    `projects` lists their ids (read only when the entry is recomputed), and
    `every_project` says the viewer sees every project, a new one included."""

    projects: Iterable[int]
    every_project: bool = False


class KeptScope:
    """A `scope` for `cached` that keeps the Scope it read (which happens only when
    the entry is recomputed), so that the computation can reuse the ids of the
    projects the viewer may see rather than read them again."""

    def __init__(self, read: Callable[[], Scope]):
        self._read = read
        self.scope: Scope | None = None

    def __call__(self) -> Scope:
        self.scope = self._read()
        return self.scope

    def ids(self) -> list[int] | None:
        """The ids of the projects the viewer may see, once read; None before, and
        for a viewer who sees every project (they are not listed)."""
        if self.scope is None or self.scope.every_project:
            return None
        return list(self.scope.projects)


def _current(keys: list[str], found: dict) -> list:
    """The versions of `keys` (given what `found` already holds): a missing one (a
    fresh start, an evicted key) is created with a new token, never an old one."""
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:
            cache.add(key, secrets.token_hex(8), timeout=None)
        found = {**found, **cache.get_many(missing)}
    return [found.get(key) for key in keys]


class _NotPlain(Exception):
    pass


class _PlainPickler(pickle.Pickler):
    """Pickles plain data only: refuses a model instance or a `Page` where it meets
    one, so that the check walks nothing of its own (a walk of the value took
    ~0.5 ms of the project page). A pickled model instance carries whatever it had
    loaded and comes back as a partial row that `.save()` would blank; a `Page`
    carries its queryset."""

    def reducer_override(self, obj):
        if isinstance(obj, Model | Page):
            raise _NotPlain(type(obj).__name__)
        return NotImplemented


def _pickled(value) -> bytes:
    """`value` pickled, or _NotPlain naming what in it is not plain data."""
    buffer = io.BytesIO()
    _PlainPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def cached(
    name: str, user, parts: tuple, compute: Callable[[], T], scope: Scope | Callable[[], Scope]
) -> T:
    """`compute()`, or its result from the cache while nothing it shows has changed.

    Stored under the viewer (results are filtered by what they may see), the
    language (labels inside) and `parts` (today, page, project...), beside the
    versions it was computed with (see the module's docstring). `scope` may be
    given as a function, called only when the entry is recomputed: whether the
    viewer sees every project is then read from the entry, which their own
    `person` version guards (deciding it again costs a permissions query on a
    page that is otherwise served from the cache).
    """
    key = ":".join(
        str(part) for part in ("mlteam", name, user.pk, translation.get_language(), *parts)
    )
    shared = [EVERYTHING, CATALOGUE, person_key(user.pk), PROJECT_LIST]
    try:
        found = cache.get_many([key, *shared])
        entry = found.pop(key, None)
        # (.get: an entry written before "keys" was stored is recomputed, not an error.)
        if entry is not None and entry["shared"] == [found.get(k) for k in entry.get("keys", ())]:
            # The same rights and project list, so the same projects: are they unchanged?
            keys = [project_key(pk) for pk in entry["projects"]]
            now = cache.get_many(keys) if keys else {}
            # (An entry of the former layout, with "value", has no "pickled":
            # recomputed and replaced.)
            if [now.get(k) for k in keys] == list(entry["projects"].values()) and (
                "pickled" in entry
            ):
                return pickle.loads(entry["pickled"])  # noqa: S301 (written below)
        if callable(scope):
            scope = scope()
        if not scope.every_project:
            shared.remove(PROJECT_LIST)
        # Versions are read before computing: a change committed meanwhile moves
        # them again, so this result is not kept past it.
        versions = _current(shared, found)
        # Every project: `projects` moves with each of them, no need to list them.
        ids = [] if scope.every_project else list(scope.projects)
        keys = [project_key(pk) for pk in ids]
        covered = _current(keys, cache.get_many(keys) if keys else {})
    except Exception:  # cache unreachable: the page still works, uncached
        logger.warning("Cache unreachable; computing %s directly", name, exc_info=True)
        return compute()
    value = compute()
    try:
        pickled = _pickled(value)
    except _NotPlain as refused:
        message = f"{name}: only plain data is cached, not {refused}"
        if settings.DEBUG or getattr(settings, "CACHE_PLAIN_DATA_ONLY", False):
            raise TypeError(message) from None
        logger.error("%s; served uncached", message)
        return value
    if None in versions or None in covered:
        return value  # a cache that keeps nothing (DummyCache): nothing to store
    try:
        cache.set(
            key,
            {
                "keys": shared,
                "shared": versions,
                "projects": dict(zip(ids, covered, strict=True)),
                # Pickled apart from the versions, so that reading an entry that is
                # out of date (the first request after a change) does not unpickle
                # its whole dashboard only to drop it (~0.3-0.5 ms a page).
                "pickled": pickled,
            },
            TIMEOUT,
        )
    except Exception:
        logger.warning("Could not cache %s", name, exc_info=True)
    return value


# --- Django's auth models, which the admin writes without the services ----------------------

# Shown wherever the person is listed (teams, workload, history, suggestions).
_USER_SHOWN = ("username", "first_name", "last_name", "is_active")
# Decide what the person may see.
_USER_RIGHTS = ("is_superuser",)


_USER_WATCHED = _USER_SHOWN + _USER_RIGHTS


def _user_saving(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Before a person is saved, their watched values as stored (one query, and none
    for a new account or a save of other fields only, such as a sign-in's
    `last_login`). Read on the write rather than kept on every load: people are
    loaded on every page (owners, authors, workload) and saved rarely."""
    instance._cache_before = {}
    watched = [
        field
        for field in _USER_WATCHED
        if (update_fields is None or field in update_fields) and field in instance.__dict__
    ]
    if raw or instance._state.adding or instance.pk is None or not watched:
        return
    stored = sender._base_manager.filter(pk=instance.pk).values(*watched).first()
    instance._cache_before = stored or {}


def _user_saved(sender, instance, created, update_fields=None, raw=False, **kwargs) -> None:
    """A rename or (de)activation moves everything; superuser status, the person.
    A new account is on no dashboard until it joins a project (`membership_add`),
    and a sign-in (`last_login`) or a new password changes nothing shown."""
    before = instance.__dict__.pop("_cache_before", {})
    if created or raw:
        return
    changed = {field for field, value in before.items() if instance.__dict__[field] != value}
    if changed & set(_USER_SHOWN):
        bump()
    elif changed:
        person_changed(instance.pk)


def _people_in_groups(group_ids) -> list[int]:
    from django.contrib.auth import get_user_model

    through = get_user_model().groups.through
    return list(
        through.objects.filter(group_id__in=list(group_ids)).values_list("user_id", flat=True)
    )


def _rights_changed(sender, instance, action, pk_set, **kwargs) -> None:
    """A person's groups or permissions, or a group's permissions, changed (from
    either side of the relation). Before a clear, to know who loses them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    User = get_user_model()
    if isinstance(instance, User):
        people = [instance.pk]
    elif sender is Group.permissions.through:
        if isinstance(instance, Group):
            people = _people_in_groups([instance.pk])
        else:  # a permission's groups
            groups = pk_set
            if groups is None:
                groups = instance.group_set.values_list("pk", flat=True)
            people = _people_in_groups(groups)
    elif isinstance(instance, Group | Permission):  # a group's or a permission's people
        people = pk_set
        if people is None:
            people = instance.user_set.values_list("pk", flat=True)
    else:
        return
    person_changed(*people)


def _group_deleted(sender, instance, **kwargs) -> None:
    person_changed(*_people_in_groups([instance.pk]))


def connect_auth_signals() -> None:
    """Connected once, when the app is ready (`MLTeamConfig.ready`)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save

    User = get_user_model()
    pre_save.connect(_user_saving, sender=User, dispatch_uid="mlteam-cache-user-saving")
    post_save.connect(_user_saved, sender=User, dispatch_uid="mlteam-cache-user-saved")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _rights_changed, sender=through, dispatch_uid=f"mlteam-cache-{through.__name__}"
        )
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="mlteam-cache-group-deleted")
