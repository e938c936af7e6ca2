"""Logging helpers named in settings.LOGGING."""

from __future__ import annotations

import logging


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
