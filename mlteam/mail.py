"""Sending mail with the one moment that matters for duplicates made visible.

An SMTP send has a point of no return: once the message's text follows the
server's go-ahead for DATA (354), the server may queue it even if its final
answer never reaches us (a timeout, a dropped connection). Before that point a
failure means nothing was sent and a retry is safe; after it, a retry may
deliver the message twice.

`EmailBackend` is Django's SMTP backend with that point made visible: it calls
`before_content` just before the text leaves (a caller may record it, or refuse
by raising), and a failure after it raises `OutcomeUnknown` instead of the
plain error. Other backends (console, locmem) have no such point;
`send_message` calls `before_content` just before handing them the message.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends import smtp

# Round trips of the slowest send to one recipient, each of which may wait up to
# EMAIL_TIMEOUT: connect, greeting, EHLO, STARTTLS, the TLS handshake, EHLO again,
# AUTH (up to three exchanges), MAIL, RCPT, DATA, the text and its answer, QUIT.
WORST_SEND_ROUND_TRIPS = 13


class OutcomeUnknown(smtplib.SMTPException):
    """The server received the whole message but its answer never came: it may or
    may not deliver it."""


class _ContentWatch:
    """Mixed into smtplib's client: knows whether the message text of the current
    DATA command left, and whether the server answered it."""

    before_content: Callable[[], None] | None = None
    content_sent = False
    answered = False
    _data_step: str | None = None  # None, then "command" (DATA sent), then "text" (354 came)

    def data(self, msg):
        self.content_sent = self.answered = False
        self._data_step = "command"
        try:
            return super().data(msg)
        finally:
            self._data_step = None

    def getreply(self):
        reply = super().getreply()
        if self._data_step == "command" and reply[0] == 354:
            self._data_step = "text"
        elif self._data_step == "text" and self.content_sent:
            self.answered = True
        return reply

    def send(self, s):
        if self._data_step == "text" and not self.content_sent:
            if self.before_content is not None:
                try:
                    self.before_content()
                except BaseException:
                    # Refused: drop the connection in the middle of DATA, so the
                    # server discards what it has (nothing) and QUIT cannot be
                    # mistaken for the text.
                    self.close()
                    raise
            # Counted as sent from here on: a failure halfway may still have left
            # the server with the whole text, and guessing "not sent" could repeat it.
            self.content_sent = True
        return super().send(s)


class _SMTP(_ContentWatch, smtplib.SMTP):
    pass


class _SMTP_SSL(_ContentWatch, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """Django's SMTP backend, raising `OutcomeUnknown` when the text was sent but the
    server's answer to it never came."""

    before_content: Callable[[], None] | None = None

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    def open(self):
        created = super().open()
        if self.connection is not None:
            self.connection.before_content = self.before_content
        return created

    def _send(self, email_message):
        try:
            return super()._send(email_message)
        except (smtplib.SMTPException, OSError) as error:
            client = self.connection
            if (
                not isinstance(error, OutcomeUnknown)
                and client is not None
                and client.content_sent
                and not client.answered
            ):
                raise OutcomeUnknown(f"no answer after the message was sent: {error}") from error
            raise


def send_message(message: EmailMessage, *, before_content: Callable[[], None]) -> int:
    """Send `message`, calling `before_content` at its point of no return.

    With `EmailBackend` that is just before the text follows DATA's go-ahead;
    with any other backend, just before the backend is given the message.
    Returns what `EmailMessage.send` returns (1 when sent, 0 without a recipient).
    """
    connection = get_connection()
    if isinstance(connection, EmailBackend):
        connection.before_content = before_content
    else:
        before_content()
    message.connection = connection
    return message.send()
