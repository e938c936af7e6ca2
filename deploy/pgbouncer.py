"""Debian's PgBouncer in front of PostgreSQL, started for a while in a folder of
its own: used by `make cluster` (deploy/cluster) and tests/deploy.

PgBouncer refuses to run as root, so as root it runs as `nobody`, which must be
able to read its folder and files.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pgbouncer_config(
    folder: Path,
    *,
    user: str,
    server_host: str,
    server_port: int,
    listen_port: int,
    pool_size: int = 1,
    max_client_conn: int = 20,
) -> Path:
    """Write pgbouncer.ini and its users file into `folder` (transaction pooling,
    trust authentication: it listens on 127.0.0.1 only) and return the ini's path."""
    folder.chmod(0o755)
    users = folder / "users.txt"
    users.write_text(f'"{user}" ""\n')
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={server_host} port={server_port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen_port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\n"
        f"max_client_conn = {max_client_conn}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        "log_connections = 0\nlog_disconnections = 0\n"
    )
    for path in (users, ini):
        path.chmod(0o644)
    return ini


@contextmanager
def running_pgbouncer(
    *,
    user: str,
    server_host: str = "127.0.0.1",
    server_port: int = 5432,
    pool_size: int = 1,
    max_client_conn: int = 20,
    start_timeout: float = 10,
) -> Iterator[int]:
    """Start PgBouncer, wait until it accepts connections, yield its port; stop it
    and remove its folder afterwards. Raises RuntimeError with its output when it
    does not come up."""
    binary = pgbouncer_binary()
    if binary is None:
        raise RuntimeError("pgbouncer (Debian's package) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="mlteam-pgbouncer-"))
    port = free_port()
    ini = pgbouncer_config(
        folder,
        user=user,
        server_host=server_host,
        server_port=server_port,
        listen_port=port,
        pool_size=pool_size,
        max_client_conn=max_client_conn,
    )
    command = [binary, str(ini)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]
    # Its output goes to a file: a pipe nobody reads fills up, and PgBouncer then
    # blocks on its next log line with every client waiting behind it.
    log = (folder / "pgbouncer.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 (a fixed binary and our own config)
        command, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    server.wait()
                    output = (folder / "pgbouncer.log").read_text(errors="replace")
                    raise RuntimeError(f"PgBouncer did not start: {output}") from None
                time.sleep(0.1)
        yield port
    finally:
        if server.poll() is None:
            # SIGINT: a safe shutdown (SIGTERM would wait for every client to leave)
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
