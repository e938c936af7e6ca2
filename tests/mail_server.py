"""A real SMTP server for tests (aiosmtpd in a thread) that can refuse mail or
answer late, and a port where nothing listens."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Handler:
    """Accepts mail, or (`refusing`) answers RCPT with a temporary error, or
    (`answer_after` seconds) takes the whole text and answers only after a while,
    or (`reject_text`) refuses the text after receiving it."""

    def __init__(self):
        self.received: list[EmailMessage] = []
        self.refusing = False
        self.answer_after = 0.0
        self.reject_text = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reject_text:
            return "554 5.7.1 Message refused"
        # Taken: whatever happens to the answer, the message is now queued here.
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]


class MailServer:
    """`with MailServer() as server:` a listening SMTP server on server.port."""

    def __init__(self):
        self.handler = Handler()
        self.port = free_port()

    def __enter__(self) -> MailServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[EmailMessage]:
        return self.handler.received

    def to(self, address: str) -> list[EmailMessage]:
        return self.handler.to(address)
