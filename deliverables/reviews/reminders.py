"""Review mentions in managers' reminder digests: people still without this
manager's expectations N days into a cycle, and, after the cycle, without a
shared evaluation from them.

A `DigestSection` registered in `ReviewsConfig.ready()`: the digests
(`deliverables.reminders`) call it at fixed points and know nothing of reviews.
Reviews are private, so a manager only ever hears about reviews they wrote (a
review by someone else does not count, and is never mentioned).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import ngettext_lazy

from deliverables.models import Digest
from deliverables.reminders import (
    DigestSection,
    PlannedDigest,
    _newest_first,
    managers_by_project,
)
from mlteam.people import person_name
from roles.models import LISTED_MANAGER, MANAGE, Membership, Project, project_ground_holders

from .models import Review, ReviewCycle, ReviewReminder, ReviewReminderKind

# Managers hear about evaluations still missing for this long after a cycle ends.
EVALUATION_REMINDER_DAYS = 60


@dataclass
class ReviewItem:
    cycle_id: int
    person_id: int
    kind: str


def _cycles_to_mention(first_day: date, last_day: date) -> list[ReviewCycle]:
    """Cycles that may concern a manager on some local day in [first_day, last_day]:
    past their expectations day and not ended, or ended not long ago."""
    cycles = ReviewCycle.objects.filter(
        end_date__gte=first_day - timedelta(days=EVALUATION_REMINDER_DAYS),
        start_date__lte=last_day,
    )
    return [
        cycle
        for cycle in cycles
        if cycle.expectations_due_on() <= last_day or cycle.end_date < last_day
    ]


def _review_kind(cycle: ReviewCycle, day: date) -> str | None:
    """What a manager is reminded of for `cycle` on their local `day`, if anything."""
    if cycle.expectations_due_on() <= day <= cycle.end_date:
        return ReviewReminderKind.EXPECTATIONS_MISSING
    if cycle.end_date < day <= cycle.end_date + timedelta(days=EVALUATION_REMINDER_DAYS):
        return ReviewReminderKind.EVALUATION_MISSING
    return None


def _managed_people(managed: dict[int, list[int]]) -> dict[int, set[int]]:
    """manager -> active people on the active projects they manage (not themselves)."""
    people: dict[int, set[int]] = defaultdict(set)
    memberships = Membership.objects.filter(
        project_id__in=managed, project__archived_at__isnull=True, user__is_active=True
    ).values_list("project_id", "user_id")
    for project_id, user_id in memberships:
        for manager_id in managed[project_id]:
            if manager_id != user_id:
                people[manager_id].add(user_id)
    return people


def _with_manager_rights(user_ids) -> set[int]:
    """Those of these people who may manage the projects listing them (the
    project rule: the manager permission, or an admin's)."""
    return set(
        get_user_model()
        .objects.filter(project_ground_holders(MANAGE, LISTED_MANAGER), pk__in=list(user_ids))
        .values_list("pk", flat=True)
    )


def _written_by(manager_ids) -> Q:
    """The reviews these managers wrote. Each may see their own (the writer is part
    of `ReviewQuerySet.visible_to`), and a digest names nothing else: an admin's
    digest does not list other managers' reviews although the admin may see them."""
    return Q(manager_id__in=list(manager_ids))


class ReviewDigestSection(DigestSection):
    name = "reviews"
    text_template = "reviews/emails/digest_section.txt"
    html_template = "reviews/emails/digest_section.html"

    def recipients(self, today: date) -> Iterable[int]:
        if not _cycles_to_mention(today - timedelta(days=1), today + timedelta(days=1)):
            return ()
        # Managers who may owe expectations or evaluations (checked per person later).
        return (
            Project.managers.through.objects.filter(project__archived_at__isnull=True)
            .values_list("user_id", flat=True)
            .distinct()
            .order_by()
        )

    def plan(self, planned: dict[int, PlannedDigest], managed: dict[int, list[int]]) -> None:
        if not planned:
            return
        days = [digest.local_date for digest in planned.values()]
        cycles = _cycles_to_mention(min(days), max(days))
        if not cycles:
            return
        people = _managed_people(managed)
        # Only people who are still managers owe reviews (a demoted one hears nothing).
        writers = _with_manager_rights(planned)
        written: dict[tuple[int, int], dict[int, bool]] = defaultdict(dict)
        for cycle_id, manager_id, person_id, shared in Review.objects.filter(
            _written_by(writers), cycle__in=cycles
        ).values_list("cycle_id", "manager_id", "person_id", "evaluation_shared_at"):
            written[(cycle_id, manager_id)][person_id] = shared is not None
        for manager_id, digest in planned.items():
            items = digest.extra.setdefault(self.name, [])
            for cycle in cycles:
                kind = _review_kind(cycle, digest.local_date)
                reviews = written.get((cycle.pk, manager_id), {})
                if kind == ReviewReminderKind.EXPECTATIONS_MISSING:
                    missing = people.get(manager_id, set()) - set(reviews)
                elif kind == ReviewReminderKind.EVALUATION_MISSING:
                    missing = (people.get(manager_id, set()) | set(reviews)) - {
                        person_id for person_id, shared in reviews.items() if shared
                    }
                else:
                    continue
                items.extend(ReviewItem(cycle.pk, person_id, kind) for person_id in sorted(missing))

    def save(self, saved: list[tuple[PlannedDigest, int]]) -> None:
        ReviewReminder.objects.bulk_create(
            [
                ReviewReminder(
                    cycle_id=item.cycle_id,
                    recipient_id=p.recipient.pk,
                    person_id=item.person_id,
                    kind=item.kind,
                    local_date=p.local_date,
                    digest_id=digest_id,
                )
                for p, digest_id in saved
                for item in p.extra.get(self.name, [])
            ],
            ignore_conflicts=True,
        )

    def owed(self, carrier: Digest, group: list[Digest]) -> list[ReviewReminder]:
        """The mentions still true now, each (cycle, person) once as the newest day
        said it; the others are deleted from the ledger."""
        review_reminders = list(
            ReviewReminder.objects.filter(digest__in=group)
            .select_related("cycle", "person")
            .order_by("kind", "cycle__start_date", "person__username")
        )
        owed = _newest_first(
            self._still_owed(carrier, review_reminders),
            lambda row: (row.cycle_id, row.person_id),
        )
        dropped = [reminder.pk for reminder in review_reminders if reminder not in owed]
        if dropped:
            ReviewReminder.objects.filter(pk__in=dropped).delete()
        return owed

    @staticmethod
    def _still_owed(digest: Digest, review_reminders: list[ReviewReminder]) -> list:
        """Review mentions still true at send time: the person is still managed by the
        recipient (or has a review from them) and the expectations or the shared
        evaluation are still missing."""
        recipient = digest.recipient
        if not review_reminders or not recipient.is_active or not recipient.email:
            return []
        if not _with_manager_rights([recipient.pk]):
            return []
        people = _managed_people(managers_by_project([recipient.pk])).get(recipient.pk, set())
        reviews = {
            (cycle_id, person_id): shared is not None
            for cycle_id, person_id, shared in Review.objects.filter(
                _written_by([recipient.pk]), cycle_id__in={r.cycle_id for r in review_reminders}
            ).values_list("cycle_id", "person_id", "evaluation_shared_at")
        }
        kept = []
        for reminder in review_reminders:
            key = (reminder.cycle_id, reminder.person_id)
            if _review_kind(reminder.cycle, digest.local_date) != reminder.kind:
                continue  # the cycle's dates changed since the digest was built
            if reminder.kind == ReviewReminderKind.EXPECTATIONS_MISSING:
                if reminder.person_id in people and key not in reviews:
                    kept.append(reminder)
            elif (reminder.person_id in people or key in reviews) and not reviews.get(key):
                kept.append(reminder)
        return kept

    def context(self, owed: list[ReviewReminder]) -> dict:
        """Per kind, per cycle: the people to mention, with a link to the cycle page."""
        sections: dict[str, dict[int, dict]] = defaultdict(dict)
        for reminder in owed:
            cycle = reminder.cycle
            entry = sections[reminder.kind].setdefault(
                cycle.pk,
                {
                    "cycle": cycle,
                    "url": settings.SITE_URL + reverse("reviews:cycle_detail", args=[cycle.pk]),
                    "people": [],
                },
            )
            entry["people"].append(person_name(reminder.person))
        return {
            "missing_expectations": list(
                sections.get(ReviewReminderKind.EXPECTATIONS_MISSING, {}).values()
            ),
            "missing_evaluations": list(
                sections.get(ReviewReminderKind.EVALUATION_MISSING, {}).values()
            ),
        }

    def subject_counts(self, context: dict) -> list[tuple]:
        return [
            (
                ngettext_lazy(
                    "%(count)s person without your expectations",
                    "%(count)s people without your expectations",
                    "count",
                ),
                sum(len(entry["people"]) for entry in context["missing_expectations"]),
            ),
            (
                ngettext_lazy(
                    "%(count)s evaluation to write and share",
                    "%(count)s evaluations to write and share",
                    "count",
                ),
                sum(len(entry["people"]) for entry in context["missing_evaluations"]),
            ),
        ]

    def describe(self, items: list[ReviewItem], names: dict) -> list[str]:
        """People's and cycles' names, loaded as needed and kept in `names`."""
        people = names.setdefault("people", {})
        cycles = names.setdefault("cycles", {})
        wanted_people = {item.person_id for item in items} - set(people)
        wanted_cycles = {item.cycle_id for item in items} - set(cycles)
        if wanted_people:
            for user in get_user_model().objects.filter(pk__in=wanted_people):
                people[user.pk] = person_name(user)
        if wanted_cycles:
            cycles.update(
                ReviewCycle.objects.filter(pk__in=wanted_cycles).values_list("pk", "name")
            )
        return [
            f"{item.kind}: {people[item.person_id]} ({cycles[item.cycle_id]})" for item in items
        ]
