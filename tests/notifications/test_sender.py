"""The POST goes to the checked address, with TLS checked against the host name
(not the address): a real HTTPS receiver on 127.0.0.1 with its own certificate."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading

import pytest

from mlteam.notifications import sender
from mlteam.notifications.addresses import Target


@pytest.fixture
def tls_receiver(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.test",
            "-addext", "subjectAltName=DNS:hooks.test",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    hosts = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, hosts
    server.shutdown()
    server.server_close()


def _target(host, port):
    return Target(scheme="https", host=host, port=port, path="/in", addresses=("127.0.0.1",))


def test_https_is_sent_to_the_checked_address_and_verified_against_the_host_name(
    tls_receiver, monkeypatch
):
    port, cert, hosts = tls_receiver
    # An unknown issuer is refused with the public CAs.
    refused = sender.post(_target("hooks.test", port), body=b"{}", headers={})
    assert not refused.succeeded and "CERTIFICATE_VERIFY_FAILED" in refused.error
    # Trusting the test certificate: the name on it must match the address's host.
    monkeypatch.setattr(sender.certifi, "where", lambda: str(cert))
    sent = sender.post(_target("hooks.test", port), body=b"{}", headers={})
    assert sent.succeeded and sent.status_code == 204
    assert hosts == [f"hooks.test:{port}"]
    wrong = sender.post(_target("other.test", port), body=b"{}", headers={})
    assert not wrong.succeeded and "other.test" in wrong.error
