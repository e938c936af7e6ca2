from tests.notifications.conftest import loopback_allowed, receiver, receivers  # noqa: F401
