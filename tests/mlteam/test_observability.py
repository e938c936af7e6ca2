"""Request ids in logs and tasks, /metrics for a scraper with the token, Sentry when
a DSN is set (mlteam/observability.py, settings LOGGING and production)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from mlteam import observability
from mlteam.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_each_answer_names_its_request_id(client):
    first = client.get(reverse("healthz"))["X-Request-ID"]
    second = client.get(reverse("healthz"))["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("lb-0f3a9c2e-77", True),
        ("short", False),  # fewer than 8 characters
        ("x" * 65, False),
        ("evil\nline", False),
        ("id with spaces", False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_it_is_plain(client, given, kept):
    answered = client.get(reverse("healthz"), headers={"X-Request-ID": given})["X-Request-ID"]
    assert (answered == given) is kept


def test_json_log_lines_carry_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.RequestIdFilter())
    formatter = settings.LOGGING["formatters"]["json"]
    handler.setFormatter(
        JsonFormatter(fmt=formatter["fmt"], rename_fields=formatter["rename_fields"])
    )
    log = logging.getLogger("tests.observability")
    log.addHandler(handler)
    token = observability.request_id.set("req-1234abcd")
    try:
        log.warning("Digest %s failed", 7)
    finally:
        observability.request_id.reset(token)
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-1234abcd"
    assert line["message"] == "Digest 7 failed"
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.observability"
    assert "time" in line


def test_a_task_published_during_a_request_carries_its_id_and_runs_with_it():
    from mlteam.celery import app

    token = observability.request_id.set("req-5678efgh")
    try:
        with app.connection_for_write("memory://") as connection:
            heartbeat.apply_async(connection=connection, queue="observability-test")
            message = connection.SimpleQueue("observability-test").get(timeout=5)
    finally:
        observability.request_id.reset(token)
    assert message.headers["request_id"] == "req-5678efgh"

    # The worker side: while the task runs, the request's id is the current one (a
    # receiver connected after the product's sees what the task's own code sees).
    from celery.signals import task_prerun

    seen = []

    def watch(**kwargs):
        seen.append(observability.request_id.get())

    task_prerun.connect(watch, weak=False)
    try:
        heartbeat.apply(headers={"request_id": "req-5678efgh"})
        heartbeat.apply()  # published outside any request: no id
    finally:
        task_prerun.disconnect(watch)
    assert seen == ["req-5678efgh", ""]
    assert observability.request_id.get() == ""  # reset after the task


def _scrape(client, token="s3cret-metrics-token"):
    return client.get(reverse("metrics"), headers={"Authorization": f"Bearer {token}"})


def test_metrics_are_off_without_a_token(client):
    assert client.get(reverse("metrics")).status_code == 404
    assert _scrape(client, "").status_code == 404


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_need_the_token(client, admin):
    assert client.get(reverse("metrics")).status_code == 404
    assert _scrape(client, "wrong").status_code == 404
    client.force_login(admin)  # signing in is not enough
    assert client.get(reverse("metrics")).status_code == 404


@override_settings(METRICS_TOKEN="s3cret-metrics-token")
def test_metrics_name_requests_tasks_digests_deliveries_and_queues(client):
    client.get(reverse("healthz"))
    heartbeat.apply()
    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz"}'
        in text
    )
    assert re.search(
        r'mlteam_celery_tasks_total\{outcome="succeeded",task="mlteam.heartbeat"\} [1-9]', text
    )
    assert 'mlteam_celery_task_duration_seconds_count{task="mlteam.heartbeat"}' in text
    assert "# TYPE mlteam_digests_last_day gauge" in text
    assert "# TYPE mlteam_webhook_deliveries_last_day gauge" in text
    assert "# TYPE mlteam_queue_length gauge" in text


def test_sentry_starts_with_a_dsn_and_sends_no_personal_data():
    script = (
        "import django, sentry_sdk; django.setup(); "
        "client = sentry_sdk.get_client(); "
        "print(client.is_active(), client.options['send_default_pii'], "
        "client.options['traces_sample_rate'], client.options['include_local_variables'], "
        "client.options['max_request_body_size'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mlteam.settings.production",
        "DJANGO_SECRET_KEY": "sentry-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
        "DJANGO_ALLOWED_HOSTS": "mlteam.example.com",
        "DATABASE_URL": "postgres://mlteam@localhost:5432/mlteam",
        "CELERY_BROKER_URL": "redis://localhost:6379/0",
        "SITE_URL": "https://mlteam.example.com",
        "SENTRY_DSN": "https://public@sentry.example.com/1",
        "SENTRY_TRACES_SAMPLE_RATE": "0.25",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "False", "0.25", "False", "never"]
