from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from deliverables import reminders
from deliverables.models import DigestStatus
from deliverables.selectors import digest_trouble, digests_needing_attention
from mlteam.people import person_name

# Digests needing attention listed on stderr at most (the admin's Digests list has them all).
TROUBLE_LISTED = 100


class Command(BaseCommand):
    help = "Send the reminder digests owed now (or, with --dry-run, list them)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be sent; send nothing."
        )
        parser.add_argument(
            "--now", help="Pretend it is this moment (ISO 8601, e.g. 2026-12-01T09:30+09:00)."
        )

    def handle(self, *args, dry_run: bool, now: str | None, **options):
        moment = timezone.now()
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now must be an ISO 8601 moment, not {now!r}.") from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        if dry_run:
            self._dry_run(moment)
            return
        sent = failed = unknown = 0

        def send(digest_id: int) -> None:
            nonlocal sent, failed, unknown
            try:
                # Claims and leases use the real clock, --now only decides what is owed.
                sent += reminders.digest_send(digest_id=digest_id)
            except reminders.DigestSendFailed as failure:
                failed += 1
                self.stderr.write(f"digest {digest_id}: {failure}")
            except reminders.DigestOutcomeUnknown as outcome:
                unknown += 1
                self.stderr.write(f"digest {digest_id}: outcome unknown: {outcome}")

        result = reminders.reminder_sweep(now=moment, send=send, clock=timezone.now())
        summary = f"{result['created']} digests built, {sent} sent, {failed} failed (retried later)"
        if unknown:
            summary += f", {unknown} with an unknown outcome"
        if result["given_up"]:
            summary += f", {result['given_up']} given up"
        self.stdout.write(summary + ".")
        self._report_trouble(timezone.now())

    def _report_trouble(self, moment: datetime) -> None:
        """Digests failing now, or given up on or left with an unknown outcome in the
        last day, on stderr: an outage is never "0 sent, 0 failed" silence."""
        trouble = digest_trouble(now=moment)
        total = trouble.failing + trouble.undelivered + trouble.unknown
        if not total:
            return
        digests = digests_needing_attention(now=moment, limit=TROUBLE_LISTED)
        listed = "" if len(digests) >= total else f" (the first {len(digests)} below)"
        self.stderr.write(f"{total} digests need attention{listed}:")
        for digest in digests:
            recipient = digest.recipient
            if digest.status == DigestStatus.PENDING:
                state = (
                    f"failing since {digest.failing_since:%Y-%m-%d %H:%M %Z}, "
                    f"next attempt {digest.next_attempt_at:%Y-%m-%d %H:%M %Z}"
                )
            elif digest.status == DigestStatus.UNDELIVERED:
                state = "undelivered (catch-up window ended)"
            else:
                state = "outcome unknown (the mail server never answered)"
            self.stderr.write(
                f"  {display_name(recipient)} <{recipient.email}> "
                f"{digest.local_date.isoformat()}: {state}; {digest.attempts} attempts; "
                f"last error: {digest.last_error or 'none'}"
            )

    def _dry_run(self, moment: datetime) -> None:
        """List the digests owed now: people by name, work and cycles by name."""
        count = 0
        names: dict[str, dict] = {}  # each section's names, kept across digests
        for planned in reminders.reminder_plan(now=moment):
            count += 1
            recipient = planned.recipient
            items = len(planned.items) + sum(len(extra) for extra in planned.extra.values())
            self.stdout.write(
                f"{display_name(recipient)} <{recipient.email}> "
                f"({planned.local_date.isoformat()}, {planned.language}): "
                f"{items} {'item' if items == 1 else 'items'}"
            )
            for item in planned.items:
                self.stdout.write(
                    f"  - {item.kind}: {item.label} [{item.project_name}] ({item.days} days)"
                )
            for section in reminders.digest_sections:
                section_names = names.setdefault(section.name, {})
                for line in section.describe(planned.extra.get(section.name, []), section_names):
                    self.stdout.write(f"  - {line}")
        self.stdout.write(f"{count} digests would be sent.")


def display_name(user) -> str:
    return person_name(user)
