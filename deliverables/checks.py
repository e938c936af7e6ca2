"""System checks: reminder sends cannot outlive their lease."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning, register
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


@register()
def reminder_send_lease(app_configs=None, **kwargs) -> list[CheckMessage]:
    """A worker's lease on the digests it sends must outlast its slowest send, or a
    second worker could take them over mid-send; and a send must have an end."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    from mlteam.mail import WORST_SEND_ROUND_TRIPS
    from mlteam.mail import EmailBackend as WatchingBackend

    messages: list[CheckMessage] = []
    try:
        backend = import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return messages  # Django's own checks and the first send report it
    smtp = issubclass(backend, SMTPBackend)
    timeout = settings.EMAIL_TIMEOUT
    if smtp and not timeout:
        messages.append(
            Error(
                "EMAIL_TIMEOUT is not set: a send to an SMTP server that stops answering "
                "never ends, and no lease can outlast it.",
                hint="Set EMAIL_TIMEOUT (seconds; 10 by default).",
                id="deliverables.E002",
            )
        )
    elif timeout:
        worst = WORST_SEND_ROUND_TRIPS * timeout
        if worst >= settings.REMINDER_SEND_LEASE_SECONDS:
            messages.append(
                Error(
                    f"REMINDER_SEND_LEASE_SECONDS ({settings.REMINDER_SEND_LEASE_SECONDS}) "
                    f"must be longer than the slowest send: {WORST_SEND_ROUND_TRIPS} SMTP "
                    f"round trips of up to EMAIL_TIMEOUT ({timeout} s) = {worst:g} s.",
                    hint="Raise REMINDER_SEND_LEASE_SECONDS or lower EMAIL_TIMEOUT.",
                    id="deliverables.E003",
                )
            )
    if smtp and not issubclass(backend, WatchingBackend):
        messages.append(
            Warning(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which cannot tell a send the "
                "server took but never answered from a failed one: such sends are retried "
                "and may arrive twice.",
                hint="Use mlteam.mail.EmailBackend (EMAIL_URL and EMAIL_HOST do).",
                id="deliverables.W001",
            )
        )
    return messages
