"""The Celery application. Workers start with `celery -A mlteam worker`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlteam.settings.local")

app = Celery("mlteam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
