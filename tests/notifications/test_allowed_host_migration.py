"""Migration 0005: allowed hosts learn ports. A bare host now means its default port
only, so each allowed host an existing endpoint calls on another port gets that
port's entry: every webhook allowed before is allowed after, and nothing more
than what is in use. It can be reversed."""

from __future__ import annotations

import pytest

from tests.migrations import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("notifications", "0004_history_fan_out_mark")]
AFTER = [("notifications", "0005_allowed_host_port")]


def test_allowed_hosts_keep_the_ports_their_endpoints_use_and_no_others():
    apps = migrate_to(BEFORE)
    try:
        User = apps.get_model("auth", "User")
        Allowed = apps.get_model("notifications", "WebhookAllowedHost")
        Endpoint = apps.get_model("notifications", "WebhookEndpoint")
        admin = User.objects.create(username="migration-admin")
        Allowed.objects.create(host="hooks.internal", note="CI")
        Allowed.objects.create(host="10.0.0.5")
        Allowed.objects.create(host="fd00::5")
        for url in [
            "https://hooks.internal:8443/a",  # a non-default port: kept
            "https://hooks.internal:8443/b",  # the same one again
            "http://HOOKS.internal:9000/c",  # another one
            "https://hooks.internal/d",  # the default port: the bare entry covers it
            "http://10.0.0.5:80/e",  # the default, written out
            "http://10.0.0.5:443/f",  # 443 on http is not http's default
            "http://[fd00::5]:8080/g",
            "https://elsewhere.example:8443/h",  # not an allowed host: nothing to keep
            "http://hooks.internal:bad/i",  # not a valid address: skipped
        ]:
            Endpoint.objects.create(url=url, events=[], secret="whsec_x", created_by=admin)

        apps = migrate_to(AFTER)
        Allowed = apps.get_model("notifications", "WebhookAllowedHost")
        entries = set(Allowed.objects.values_list("host", "port"))
        assert entries == {
            ("hooks.internal", None),
            ("hooks.internal", 8443),
            ("hooks.internal", 9000),
            ("10.0.0.5", None),
            ("10.0.0.5", 443),
            ("fd00::5", None),
            ("fd00::5", 8080),
        }
        assert Allowed.objects.get(host="hooks.internal", port=None).note == "CI"
        assert "existing webhook" in Allowed.objects.get(host="hooks.internal", port=8443).note

        apps = migrate_to(BEFORE)  # back: one entry per host, which allowed every port
        Allowed = apps.get_model("notifications", "WebhookAllowedHost")
        assert sorted(Allowed.objects.values_list("host", "note")) == [
            ("10.0.0.5", ""),
            ("fd00::5", ""),
            ("hooks.internal", "CI"),
        ]
    finally:
        migrate_to_latest()
