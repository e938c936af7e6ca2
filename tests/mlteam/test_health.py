from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from tests.conftest import require


@pytest.mark.django_db
def test_readyz_is_200_when_database_cache_and_broker_answer_and_migrations_are_applied(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "migrations": "ok",
        "cache": "ok",
        "broker": "ok",
        "status": "ok",
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_health_checks_need_no_sign_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz/reminders").status_code == 200


def test_healthz_is_alive_without_touching_the_database(client, django_assert_num_queries):
    """No django_db mark: a query would fail the test. Liveness checks nothing else."""
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_is_not_applied(client, monkeypatch):
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    from mlteam import health

    monkeypatch.setattr(health, "_migrated", False)
    # The app's newest migration recorded as not applied (rolled back with the test).
    ((app, name),) = MigrationLoader(connection).graph.leaf_nodes("mlteam")
    MigrationRecorder.Migration.objects.filter(app=app, name=name).delete()
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["migrations"] == "error: 1 migration(s) not applied"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
)
def test_readyz_is_503_naming_the_cache_when_it_is_down(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["cache"].startswith("error")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_reminders_have_their_own_check_so_a_mail_outage_keeps_the_site_in_service(client):
    """The reminders' check is green with nothing failing; its red states are in
    tests/deliverables/test_reminder_delivery.py, where /healthz stays 200."""
    response = client.get(reverse("healthz_reminders"))
    assert response.status_code == 200
    assert response.json() == {"reminders": "ok", "status": "ok"}


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_readyz_is_503_naming_the_broker_when_it_is_down(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_readyz_is_503_naming_the_database_when_it_is_down(client, django_db_blocker):
    """Point the connection at a database that does not exist: a real failed connect."""
    with django_db_blocker.unblock():
        saved = dict(connection.settings_dict)
        connection.close()
        if connection.vendor == "sqlite":
            require(False, "SQLite's in-memory test database cannot be made unreachable")
        connection.settings_dict["PORT"] = "1"  # nothing listens there
        try:
            response = client.get(reverse("readyz"))
            alive = client.get(reverse("healthz"))
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"].startswith("error")
    assert body["migrations"] == "error: no database"
    assert body["status"] == "error"
    assert alive.status_code == 200  # alive: a database outage restarts nothing


# --- check_scheduler ------------------------------------------------------------------------


def _beat_ran(minutes_ago: int) -> None:
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(task="mlteam.heartbeat").update(
        last_run_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def _worker_seen(hostname: str, minutes_ago: int) -> None:
    from django.utils import timezone

    from mlteam.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"seen_at": timezone.now() - timedelta(minutes=minutes_ago)},
    )


@pytest.mark.django_db
def test_check_scheduler_passes_with_beat_ticking_and_a_live_worker():
    _beat_ran(1)
    _worker_seen("celery@web-1", 0)
    _worker_seen("celery@gone", 90)  # scaled down long ago: reported, not failed
    out = io.StringIO()
    call_command("check_scheduler", "--json", "--no-queues", stdout=out)
    report = json.loads(out.getvalue())
    assert report["status"] == "ok"
    assert report["queues"] is None
    assert report["live_workers"] == ["celery@web-1"]
    assert report["late_workers"] == ["celery@gone"]
    assert report["problems"] == []


@pytest.mark.django_db
def test_check_scheduler_fails_when_beat_stopped():
    _beat_ran(30)
    _worker_seen("celery@web-1", 0)
    with pytest.raises(CommandError, match="beat's last tick was 30 min ago"):
        call_command("check_scheduler", "--no-queues", stdout=io.StringIO())
    # A wider margin, given by the operator, passes.
    call_command("check_scheduler", "--beat-minutes", "45", "--no-queues", stdout=io.StringIO())


@pytest.mark.django_db
def test_check_scheduler_fails_when_no_worker_is_live():
    _beat_ran(1)
    _worker_seen("celery@web-1", 12)
    out = io.StringIO()
    with pytest.raises(CommandError, match="no worker has taken a heartbeat task lately"):
        call_command("check_scheduler", "--no-queues", stdout=out)
    assert "celery@web-1: last heartbeat" in out.getvalue()
    assert "(late)" in out.getvalue()


@pytest.mark.django_db
def test_check_scheduler_fails_when_nothing_ever_ran():
    with pytest.raises(CommandError, match="beat has never run a task"):
        call_command("check_scheduler", "--no-queues", stdout=io.StringIO())


@pytest.mark.django_db
def test_check_scheduler_refuses_a_margin_below_a_minute():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("check_scheduler", "--worker-minutes", "0", stdout=io.StringIO())


@pytest.mark.django_db
def test_check_scheduler_refuses_a_queue_wait_out_of_range():
    with pytest.raises(CommandError, match="--queue-seconds"):
        call_command("check_scheduler", "--queue-seconds", "0", stdout=io.StringIO())


def _live_worker(queues: list[str]):
    """A real worker (in a thread) on the configured broker, taking `queues`."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from mlteam.celery import app

    require(
        settings.CELERY_BROKER_URL.startswith("redis://"),
        "a Redis broker: workers answer remote control over it",
    )
    app.control.purge()  # earlier tests' leftovers are not this worker's to run
    return start_worker(
        app, pool="solo", queues=queues, perform_ping_check=False, shutdown_timeout=15
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_scheduler_names_the_queues_no_live_worker_takes():
    _beat_ran(1)
    _worker_seen("celery@web-1", 0)
    out = io.StringIO()
    with (
        _live_worker(["celery", "reminders"]) as worker,
        pytest.raises(CommandError, match="no live worker takes the queue"),
    ):
        call_command("check_scheduler", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["status"] == "error"
    assert report["queues_without_worker"] == ["deliveries", "polling"]
    assert report["queues"]["celery"] == [worker.hostname]
    assert report["queues"]["reminders"] == [worker.hostname]
    assert report["problems"] == ["no live worker takes the queue(s): deliveries, polling"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_scheduler_passes_when_every_queue_has_a_live_worker():
    from django.conf import settings

    _beat_ran(1)
    _worker_seen("celery@web-1", 0)
    out = io.StringIO()
    with _live_worker(list(settings.WORKER_QUEUES)) as worker:
        call_command("check_scheduler", stdout=out)
    for queue in settings.WORKER_QUEUES:
        assert f"queue {queue}: {worker.hostname}" in out.getvalue()
