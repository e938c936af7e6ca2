from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mlteam.demo import DEMO_PASSWORD, demo_seed, demo_seeded


class Command(BaseCommand):
    help = (
        "Create demo people, projects and deliverables in a database without projects "
        "(otherwise nothing changes; DEBUG only)."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it only runs "
                "with DJANGO_DEBUG on."
            )
        if demo_seeded():
            self.stdout.write(
                "The database already has projects, so the demo data was left as it is "
                "(it is seeded once, into an empty database)."
            )
            return
        projects = demo_seed(today=timezone.localdate())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(projects)} projects. Sign in as admin, manager or "
                f"member with the password {DEMO_PASSWORD!r}."
            )
        )
