"""A calendar feed's address is its credential: no log line carries it (Django's
request log, and gunicorn's access log with the logger class the deploy uses)."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from mlteam.log import SecretsRedacted, redact_secrets

SECRET = "S3cr3tFeedAddressExample_0123456789"


def test_redaction_keeps_the_shape_of_the_path():
    assert redact_secrets(f"GET /calendar/{SECRET}.ics HTTP/1.1") == "GET /calendar/….ics HTTP/1.1"
    assert redact_secrets("GET /deliverables/5/ HTTP/1.1") == "GET /deliverables/5/ HTTP/1.1"


@pytest.mark.django_db
def test_djangos_not_found_line_has_no_secret(client, caplog):
    handler = logging.StreamHandler()
    records = []
    handler.addFilter(SecretsRedacted())
    handler.emit = records.append  # what the console handler would write
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        assert client.get(f"/calendar/{SECRET}.ics").status_code == 404
    finally:
        logger.removeHandler(handler)
    messages = [record.getMessage() for record in records]
    assert any("/calendar/…" in message for message in messages), messages
    assert not any(SECRET in message for message in messages)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorns_access_log_has_no_secret(tmp_path: Path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = {
        "DJANGO_SETTINGS_MODULE": "mlteam.settings.test",
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "mlteam.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "--logger-class",
            "mlteam.log.GunicornLogger",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Up to a minute for gunicorn to start on a busy machine; said if it never does.
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/calendar/{SECRET}.ics", timeout=2)
            except urllib.error.HTTPError:
                break  # answered (no database here: any status will do)
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not answer within a minute")
                time.sleep(0.1)
        deadline = time.monotonic() + 10
        while not (log.exists() and "/calendar/" in log.read_text()):
            if time.monotonic() > deadline:
                break  # the assertions below show the log as it is
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "/calendar/….ics" in text, text
    assert SECRET not in text
