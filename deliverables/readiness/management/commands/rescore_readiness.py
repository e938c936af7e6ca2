"""Score every marked deliverable again and store it (ReadinessScore): after marks or
rubrics were written outside the services (bulk load data, a restore, psql)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from deliverables.readiness.models import Rubric
from deliverables.readiness.services import rescore_type
from mlteam import cache


class Command(BaseCommand):
    help = "Store the readiness score of every marked deliverable again (after bulk writes)."

    def handle(self, *args, **options):
        scored = 0
        with transaction.atomic():
            for type_id in Rubric.objects.values_list("deliverable_type_id", flat=True):
                scored += rescore_type(type_id)
            cache.bump()
        self.stdout.write(f"Scored {scored:,} deliverables.")
