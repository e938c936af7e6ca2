"""What operators watch: a request id in every log line (carried into the Celery
tasks a request causes), Prometheus metrics, and Sentry when a DSN is set.

- **Request id**: `RequestIdMiddleware` takes a sane `X-Request-ID` from the proxy
  or makes one, answers with it, and keeps it in a context variable that the
  `RequestIdFilter` puts on every log record (`request_id`). A task published
  while it is set carries it in a message header (`before_task_publish`); the
  worker sets it again while the task runs (`task_prerun`/`task_postrun`).
- **Metrics** at `/metrics` (`metrics_view`), only with `Authorization: Bearer
  <METRICS_TOKEN>` (404 when no token is configured): django-prometheus's request
  latency by view and status; Celery task counts, durations and failures by task
  (recorded by workers, served by their own HTTP server on CELERY_METRICS_PORT);
  read at scrape time from the database and the broker: digests and webhook
  deliveries of the last day by status, and each queue's length. With several
  processes (gunicorn workers, Celery's prefork children) set
  PROMETHEUS_MULTIPROC_DIR to a folder of their own (docs/scale.md).
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import os
import re
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

# --- request id ---------------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy is kept only when it is short plain text (it goes into logs).
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in the chain: every log line of the request names it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        value = given if _SANE_ID.match(given) else new_request_id()
        token = request_id.set(value)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    """On the console handler: `record.request_id`, empty outside a request or task."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def _publish_with_request_id(sender=None, headers=None, **kwargs) -> None:
    current = request_id.get()
    if current and headers is not None:
        headers.setdefault("request_id", current)


_task_tokens: dict[str, contextvars.Token] = {}
_task_started: dict[str, float] = {}


def _task_started_with_request_id(sender=None, task_id=None, task=None, **kwargs) -> None:
    carried = None
    if task is not None:
        # A worker flattens a message's headers onto the request; `apply` keeps them
        # in `headers`.
        carried = getattr(task.request, "request_id", None) or (
            getattr(task.request, "headers", None) or {}
        ).get("request_id")
    _task_tokens[task_id] = request_id.set(carried or "")
    _task_started[task_id] = time.monotonic()


def _task_finished(sender=None, task_id=None, task=None, state=None, **kwargs) -> None:
    name = getattr(task, "name", None) or "unknown"
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_DURATION.labels(task=name).observe(time.monotonic() - started)
    outcome = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}.get(
        state or "", (state or "unknown").lower()
    )
    TASKS.labels(task=name, outcome=outcome).inc()
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)


def connect_celery_signals() -> None:
    """Called by mlteam.celery: request ids into and out of tasks, task metrics."""
    from celery.signals import before_task_publish, task_postrun, task_prerun, worker_ready

    before_task_publish.connect(_publish_with_request_id, weak=False)
    task_prerun.connect(_task_started_with_request_id, weak=False)
    task_postrun.connect(_task_finished, weak=False)
    worker_ready.connect(_serve_worker_metrics, weak=False)


# --- metrics ------------------------------------------------------------------------------

TASKS = Counter(
    "mlteam_celery_tasks", "Celery tasks run, by task and outcome.", ["task", "outcome"]
)
TASK_DURATION = Histogram(
    "mlteam_celery_task_duration_seconds",
    "How long Celery tasks ran, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, float("inf")),
)


def _registry() -> CollectorRegistry:
    """The process's own metrics, or every process's when they share a folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def _serve_worker_metrics(sender=None, **kwargs) -> None:
    """A worker's task metrics on CELERY_METRICS_PORT, when set (Prometheus scrapes
    each worker pod; the web's /metrics serves the web processes)."""
    port = getattr(settings, "CELERY_METRICS_PORT", None)
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, registry=_registry())
        logger.info("Worker metrics on port %s", port)


class StateCollector:
    """Read at scrape time, so every web process answers the same: the last day's
    digests and webhook deliveries by status, and the broker's queue lengths."""

    def collect(self):
        from django.db.models import Count
        from django.utils import timezone

        from deliverables.models import Digest
        from mlteam.notifications.models import WebhookDelivery

        now = timezone.now()
        digests = GaugeMetricFamily(
            "mlteam_digests_last_day",
            "Reminder digests of the last day (recipients' local dates), by status.",
            labels=["status"],
        )
        rows = (
            Digest.objects.filter(local_date__gte=(now - timedelta(days=1)).date())
            .values_list("status")
            .annotate(n=Count("*"))
            .order_by()
        )
        for status, n in rows:
            digests.add_metric([status], n)
        yield digests
        deliveries = GaugeMetricFamily(
            "mlteam_webhook_deliveries_last_day",
            "Webhook deliveries created in the last day, by status.",
            labels=["status"],
        )
        rows = (
            WebhookDelivery.objects.filter(created_at__gte=now - timedelta(days=1))
            .values_list("status")
            .annotate(n=Count("*"))
            .order_by()
        )
        for status, n in rows:
            deliveries.add_metric([status], n)
        yield deliveries
        queues = GaugeMetricFamily(
            "mlteam_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for queue, length in queue_lengths().items():
            queues.add_metric([queue], length)
        yield queues


def queue_lengths() -> dict[str, int]:
    """Messages waiting per queue the workers consume (the default queue and those
    routed to); nothing when the broker does not answer (logged)."""
    from kombu import Connection
    from kombu.exceptions import ChannelError

    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")} | {
        route["queue"] for route in settings.CELERY_TASK_ROUTES.values()
    }
    lengths = {}
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=settings.HEALTH_BROKER_TIMEOUT,
        ) as connection:
            channel = connection.default_channel
            for name in sorted(names):
                try:
                    lengths[name] = channel.queue_declare(name, passive=True).message_count
                except ChannelError:  # Redis keeps no key for an empty queue
                    lengths[name] = 0
    except Exception as error:  # kombu raises transport-specific errors
        logger.warning("metrics: queue lengths unavailable: %s", error)
    return lengths


_state = CollectorRegistry(auto_describe=False)
_state.register(StateCollector())


@login_not_required
@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format, for a scraper holding METRICS_TOKEN; a 404 for
    anyone else, so the address tells nothing."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Http404
    body = generate_latest(_registry()) + generate_latest(_state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
