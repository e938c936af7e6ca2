from __future__ import annotations

import pytest

from tests.artifacts import servers
from tests.deliverables.conftest import work  # noqa: F401 (fixture)
from tests.roles.conftest import world  # noqa: F401 (fixture)


@pytest.fixture
def fake():
    """`fake()` starts an imitation of a system's API on 127.0.0.1; all stop after."""
    started = []

    def start() -> servers.FakeSystem:
        system, server = servers.start()
        started.append(server)
        return system

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _short_timeouts(settings):
    settings.ARTIFACT_POLL_TIMEOUT_SECONDS = 1
