"""mlteam.mail: the SMTP backend tells "the server took the text but never answered"
from plain failures, against a real SMTP server."""

from __future__ import annotations

import smtplib
import time

import pytest
from django.core.mail import EmailMessage
from django.test import override_settings

from mlteam.mail import OutcomeUnknown, send_message
from tests.mail_server import MailServer, free_port


def _message() -> EmailMessage:
    return EmailMessage(subject="Hello", body="Text", to=["aiko@example.com"])


def _smtp(port: int, timeout: float = 1):
    return override_settings(
        EMAIL_BACKEND="mlteam.mail.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=timeout,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    )


class Marks:
    def __init__(self, refuse: bool = False):
        self.count = 0
        self.refuse = refuse

    def __call__(self):
        self.count += 1
        if self.refuse:
            raise RuntimeError("lease lost")


def test_an_accepted_message_marks_its_point_of_no_return_once():
    marks = Marks()
    with MailServer() as server, _smtp(server.port):
        assert send_message(_message(), before_content=marks) == 1
    assert marks.count == 1
    assert [m["To"] for m in server.received] == ["aiko@example.com"]


def test_an_answer_that_never_comes_after_the_text_is_an_unknown_outcome():
    marks = Marks()
    with MailServer() as server, _smtp(server.port, timeout=1):
        server.handler.answer_after = 2
        with pytest.raises(OutcomeUnknown):
            send_message(_message(), before_content=marks)
    assert marks.count == 1
    assert len(server.received) == 1  # the server did take it


def test_no_server_is_a_plain_failure_before_the_point_of_no_return():
    marks = Marks()
    with _smtp(free_port()), pytest.raises(ConnectionRefusedError):
        send_message(_message(), before_content=marks)
    assert marks.count == 0


def test_a_refused_recipient_is_a_plain_failure():
    marks = Marks()
    with MailServer() as server, _smtp(server.port):
        server.handler.refusing = True
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send_message(_message(), before_content=marks)
    assert marks.count == 0 and server.received == []


def test_a_text_the_server_refuses_is_a_known_failure_not_an_unknown_outcome():
    marks = Marks()
    with MailServer() as server, _smtp(server.port):
        server.handler.reject_text = True
        with pytest.raises(smtplib.SMTPDataError) as raised:
            send_message(_message(), before_content=marks)
    assert not isinstance(raised.value, OutcomeUnknown)
    assert marks.count == 1


def test_a_refusal_at_the_point_of_no_return_sends_no_text():
    """A worker that lost its lease stops before the text leaves: nothing arrives."""
    with MailServer() as server, _smtp(server.port, timeout=15):
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="lease lost"):
            send_message(_message(), before_content=Marks(refuse=True))
        # The connection was dropped at once, not left waiting EMAIL_TIMEOUT (15 s
        # here) for an answer to QUIT that the server, still reading the text, would
        # never give.
        assert time.monotonic() - started < 10
        assert server.received == []
        assert send_message(_message(), before_content=Marks()) == 1
    assert len(server.received) == 1


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_other_backends_mark_the_point_just_before_sending():
    from django.core import mail

    marks = Marks()
    assert send_message(_message(), before_content=marks) == 1
    assert marks.count == 1 and len(mail.outbox) == 1


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_other_backends_send_nothing_when_the_point_is_refused():
    from django.core import mail

    with pytest.raises(RuntimeError):
        send_message(_message(), before_content=Marks(refuse=True))
    assert mail.outbox == []


# --- the system check: a send cannot outlive its lease


def _check_ids() -> list[str]:
    from deliverables.checks import reminder_send_lease

    return [message.id for message in reminder_send_lease()]


@override_settings(
    EMAIL_BACKEND="mlteam.mail.EmailBackend", EMAIL_TIMEOUT=10, REMINDER_SEND_LEASE_SECONDS=600
)
def test_the_default_lease_outlasts_the_slowest_send():
    assert _check_ids() == []


@override_settings(
    EMAIL_BACKEND="mlteam.mail.EmailBackend", EMAIL_TIMEOUT=60, REMINDER_SEND_LEASE_SECONDS=600
)
def test_a_lease_not_longer_than_the_slowest_send_is_an_error():
    assert _check_ids() == ["deliverables.E003"]


@override_settings(EMAIL_BACKEND="mlteam.mail.EmailBackend", EMAIL_TIMEOUT=None)
def test_smtp_without_a_timeout_is_an_error():
    assert _check_ids() == ["deliverables.E002"]


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
def test_djangos_own_smtp_backend_is_a_warning():
    assert _check_ids() == ["deliverables.W001"]
