"""Logging helpers named in settings.LOGGING."""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornBaseLogger


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback from `django.request` records about 4xx responses.

    Django logs a PermissionDenied (403) or a bad request with the exception
    attached; that is the expected answer to a person, not a fault in the code,
    so one line says enough. 5xx records keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


# Addresses that carry a secret of their own (mlteam/calendars/urls.py: a calendar
# feed's address is its credential, since calendar programs send no cookies). Logs
# keep the path's shape, never the secret.
SECRET_IN_PATH = re.compile(r"(/calendar/)[^/\s?#\"']+(\.ics)")


def redact_secrets(text: str) -> str:
    return SECRET_IN_PATH.sub(r"\1…\2", text)


class SecretsRedacted(logging.Filter):
    """On the console handler: every record's message with secret addresses masked
    (django.request's "Not Found: /calendar/….ics", the dev server's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger with secret addresses masked in its access log
    (`--logger-class mlteam.log.GunicornLogger`, docker-compose.yml)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_secrets(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }
