"""A real HTTP receiver on 127.0.0.1 (an ephemeral port, its own thread) and the
admin allow-list entries that let webhooks call it (one per receiver's port)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mlteam.notifications.models import WebhookAllowedHost


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (the last one repeats): a status
    code, ("redirect", url), or ("hang", seconds) to accept and never answer in time."""

    answers: list = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self):
        with self.lock:
            answer = self.answers[0] if len(self.answers) == 1 else self.answers.pop(0)
        return answer


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            answer = receiver.next_answer()
            if isinstance(answer, tuple) and answer[0] == "hang":
                time.sleep(answer[1])
                return
            if isinstance(answer, tuple) and answer[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", answer[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            text = b"ok" if answer < 300 else b"receiver says no"
            self.send_response(answer)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receivers(request) -> Iterator:
    """`start(answers)` starts a receiver; all are shut down after the test. With
    `loopback_allowed`, the admin allows each receiver's host and port."""
    servers = []

    def start(answers=None) -> Receiver:
        receiver = Receiver(answers=list(answers or [200]))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        server.daemon_threads = True
        port = server.server_address[1]
        receiver.url = f"http://127.0.0.1:{port}/hook"
        if "loopback_allowed" in request.fixturenames:
            WebhookAllowedHost.objects.create(host="127.0.0.1", port=port, note="test receiver")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(receivers) -> Receiver:
    return receivers()


@pytest.fixture
def loopback_allowed(db):
    """The admin's explicit permission to call the test receivers: an entry per
    receiver's port, made as it starts (`receivers`); `.delete()` withdraws them."""
    return WebhookAllowedHost.objects.filter(host="127.0.0.1")
