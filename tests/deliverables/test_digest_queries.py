"""Sending a digest costs the same queries however many lines it holds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deliverables import reminders
from deliverables.models import Digest
from deliverables.services import deliverable_create
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db

MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _managers_digest_queries(lines: int, django_capture_on_commit_callbacks) -> int:
    """Queries of sending one manager's digest that escalates `lines` deliverables,
    each owned by someone else (so each line names another person)."""
    manager = manager_user()
    project = project_create(name=f"Escalated {lines}", managers=[manager], escalation_days=1)
    for n in range(lines):
        owner = UserFactory(first_name=f"Owner{n}")
        membership_add(project=project, user=owner)
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Late work {n}",
            owner=owner,
            due_date=date(2026, 11, 20),  # ten days late: escalated
        )
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(now=MONDAY_0930_UTC, send=lambda pk: None)
    digest = Digest.objects.get(recipient=manager)
    mail.outbox.clear()
    with CaptureQueriesContext(connection) as captured:
        assert reminders.digest_send(digest_id=digest.pk, now=MONDAY_0930_UTC)
    (message,) = mail.outbox
    assert message.to == [manager.email]
    assert message.body.count("days late") == lines
    assert f"Owner{lines - 1}" in message.body  # the owners are named
    return len(captured)


def test_a_managers_digest_costs_the_same_queries_with_2_and_20_escalations(
    settings, django_capture_on_commit_callbacks
):
    """Claim, preference, earlier message today, the reminders with their deliverables,
    projects, types, roles and owners, the recipient's memberships and managed
    projects, review reminders, handing over and recording the send: none per line."""
    settings.TIME_ZONE = "UTC"
    small = _managers_digest_queries(2, django_capture_on_commit_callbacks)
    assert _managers_digest_queries(20, django_capture_on_commit_callbacks) == small
