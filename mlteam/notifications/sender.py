"""One HTTP POST to a checked address (`addresses.Target`), for any outgoing channel.

The connection goes to an address the check accepted (no second lookup), with
the host name kept for the Host header and for TLS (certificate checked against
it). Timeouts on connecting and on the answer (WEBHOOK_TIMEOUT_SECONDS each), no
redirects followed (a 3xx is a failure), no retries here: the ledger decides.
The whole send is cut at twice the timeout (`_Deadline`), however the receiver trickles.
Only the first bytes of an answer are read. Nothing here logs a secret or a body.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import certifi
import urllib3
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from .addresses import Target

USER_AGENT = "MLTeam-Webhooks/1"
# What is kept of an answer that failed (the ledger's error column is 500 characters).
ANSWER_EXCERPT_BYTES = 300


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    status_code: int | None
    duration_ms: int
    error: str = ""


def signature_headers(*, secret: str, message_id: str, sent_at: datetime, body: str) -> dict:
    """The Standard Webhooks headers for `body` (webhook-id, -timestamp, -signature)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
    }


class _Deadline:
    """The whole send's limit. urllib3's timeouts bound each socket read, so a
    receiver sending a byte now and then never trips them; at the deadline the
    connection is shut, whatever it is doing (the send fails as "no answer in time")."""

    def __init__(self, seconds: float):
        self.sockets: list = []
        self.passed = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._shut)
        self._timer.daemon = True

    def watch(self, base):
        deadline = self

        class Watched(base):
            def connect(self):
                super().connect()
                with deadline._lock:
                    deadline.sockets.append(self.sock)
                    if deadline.passed:
                        deadline._shut_all()

        return Watched

    def _shut_all(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):  # closed already
                sock.shutdown(socket.SHUT_RDWR)

    def _shut(self) -> None:
        with self._lock:
            self.passed = True
            self._shut_all()

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()


def _pool(target: Target, address: str, timeout: urllib3.Timeout):
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        address, target.port, timeout=timeout, retries=False, maxsize=1
    )


def post(target: Target, *, body: bytes, headers: dict) -> Outcome:
    """POST `body` to `target`; a 2xx answer is success, anything else a failure."""
    seconds = settings.WEBHOOK_TIMEOUT_SECONDS
    timeout = urllib3.Timeout(connect=seconds, read=seconds)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and target.port == default_port:
        host_header = f"[{target.host}]"
    elif ":" in target.host:
        host_header = f"[{target.host}]:{target.port}"
    all_headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    started = time.monotonic()
    pool = _pool(target, target.addresses[0], timeout)
    deadline = _Deadline(2 * seconds)  # connecting, then the answer: within the lease
    pool.ConnectionCls = deadline.watch(pool.ConnectionCls)
    try:
        with deadline:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=all_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                excerpt = response.read(ANSWER_EXCERPT_BYTES) if response.status >= 300 else b""
            finally:
                response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as error:
        if deadline.passed:
            return Outcome(False, None, _elapsed(started), "no answer in time")
        return Outcome(False, None, _elapsed(started), _describe(error))
    finally:
        pool.close()
    elapsed = _elapsed(started)
    if 200 <= response.status < 300:
        return Outcome(True, response.status, elapsed)
    if 300 <= response.status < 400:
        error = f"HTTP {response.status}: redirects are not followed"
    else:
        error = f"HTTP {response.status}: {excerpt.decode('utf-8', 'replace')}".strip()
    return Outcome(False, response.status, elapsed, error)


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(error: Exception) -> str:
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        return "connection timed out"
    if isinstance(error, urllib3.exceptions.ReadTimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"[:300]
