"""MLTeam through a real PgBouncer (Debian's) in transaction pooling mode, with
DATABASE_TRANSACTION_POOLING=true: one server connection shared by two clients, so
consecutive transactions of one client may run on a connection another client just
used. In a separate process (its own settings, as a deployment has): the CSV export
and the overdue fan-out, which stream rows with QuerySet.iterator, the reminder
sweep, and a page, while a second thread writes in transactions of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from deploy.pgbouncer import pgbouncer_binary, running_pgbouncer
from tests.conftest import require
from tests.factories import UserFactory, deliverable_type, manager_user

# serialized_rollback: the data migrations seeded (groups, the catalogue) come back for
# the tests after this one, as every transactional test of the suite does.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(settings.BASE_DIR)

SCRIPT = r"""
import threading
from datetime import date, datetime, timezone

import django

django.setup()
from django.conf import settings
from django.db import connection, transaction
from django.test import Client

assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
settings.ALLOWED_HOSTS = ["testserver"]

from django.contrib.auth import get_user_model
from deliverables import reminders, selectors
from deliverables.models import Deliverable
from mlteam.notifications.services import overdue_fan_out

User = get_user_model()
admin = User.objects.get(username="pool-admin")
errors = []


def writer():
    # Another client: short transactions interleaved with the reads below.
    try:
        for n in range(40):
            with transaction.atomic():
                Deliverable.objects.filter(title__startswith="Pooled").update(title=f"Pooled {n}")
    except Exception as error:  # reported below
        errors.append(repr(error))
    finally:
        connection.close()


thread = threading.Thread(target=writer)
thread.start()
today = date(2026, 6, 10)
filters = selectors.deliverable_filters({})
rows = list(
    selectors.deliverable_export_rows(user=admin, filters=filters, today=today, chunk_size=7)
)
print("export rows", len(rows))
print("overdue events", overdue_fan_out(today=today))
nine = datetime(2026, 6, 10, 9, tzinfo=timezone.utc)
print("sweep", sorted(reminders.reminder_sweep(now=nine, send=lambda pk: None)))
client = Client()
client.force_login(admin)
export = client.get("/deliverables/export.csv")
print("csv lines", len(b"".join(export.streaming_content).splitlines()))
print("list", client.get("/deliverables/").status_code)
thread.join()
print("errors", errors)
"""


@pytest.fixture
def pgbouncer():
    require(connection.vendor == "postgresql", "PgBouncer sits in front of PostgreSQL")
    require(pgbouncer_binary() is not None, "pgbouncer (Debian's package) is needed")
    db = connection.settings_dict
    with running_pgbouncer(
        user=db["USER"],
        server_host=db["HOST"] or "127.0.0.1",
        server_port=int(db["PORT"] or 5432),
    ) as port:
        yield port


def test_the_product_runs_through_pgbouncer_in_transaction_pooling(pgbouncer):
    from deliverables.services import deliverable_create
    from mlteam.notifications.models import WebhookEndpoint
    from roles.services import membership_add, project_create

    UserFactory(username="pool-admin", is_staff=True, is_superuser=True)
    manager = manager_user()
    project = project_create(name="Pooled", managers=[manager], actor=manager)
    owner = UserFactory()
    membership_add(project=project, user=owner, actor=manager)
    for n in range(30):
        deliverable_create(
            project=project,
            type=deliverable_type("analysis-report"),
            title=f"Pooled {n}",
            owner=owner,
            due_date=date(2026, 6, 1),  # overdue on the script's day
            actor=manager,
        )
    # The overdue fan-out reads only projects with an endpoint that wants the event.
    WebhookEndpoint.objects.create(
        project=project,
        url="https://hooks.example.com/mlteam",
        events=["deliverable.overdue"],
        secret="whsec_pooled",
        created_by=manager,
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mlteam.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{pgbouncer}/{db['NAME']}",
        "DATABASE_TRANSACTION_POOLING": "true",
        "CELERY_BROKER_URL": "memory://",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "export rows 30" in out
    assert "overdue events 30" in out
    assert "csv lines 31" in out  # the header and each row
    assert "list 200" in out
    assert "errors []" in out
