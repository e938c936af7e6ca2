"""Settings come from the environment only, and bad values stop start-up by name."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings

from mlteam.settings.env import EnvError, env_bool, env_email, env_int, env_str

GOOD_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "mlteam.settings.production",
    "DJANGO_SECRET_KEY": "x7!kq2-" * 9,
    "DJANGO_ALLOWED_HOSTS": "mlteam.example.com",
    "DATABASE_URL": "postgres://mlteam@db.example.com:5432/mlteam",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "CACHE_URL": "redis://redis.example.com:6379/1",
    "SITE_URL": "https://mlteam.example.com",
}


def start_django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Start Django in a clean process with exactly `env` (plus PATH)."""
    command = args or ("check",)
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be a boolean"),
        ("DATABASE_URL", "mysql://db/mlteam", "DATABASE_URL must be a postgres://"),
        ("DATABASE_URL", "postgres://db.example.com", "DATABASE_URL must name a database"),
        ("CELERY_BROKER_URL", "http://broker", "CELERY_BROKER_URL must be a redis://"),
        ("EMAIL_URL", "smtp://", "EMAIL_URL must look like"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a whole number"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA time zone"),
        ("DJANGO_SECRET_KEY", "short", "DJANGO_SECRET_KEY must be a random string"),
        ("SITE_URL", "mlteam.example.com", "SITE_URL must be an http(s):// address"),
        ("SITE_URL", "https://mlteam.example.com:port", "SITE_URL has an invalid port"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    env = {**GOOD_PRODUCTION, variable: value}
    if variable == "EMAIL_PORT":
        env["EMAIL_HOST"] = "smtp.example.com"
    result = start_django(env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    "variable", ["DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "SITE_URL"]
)
def test_production_requires(variable):
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != variable}
    result = start_django(env)
    assert result.returncode != 0
    assert f"{variable} must be set" in result.stderr


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = start_django(GOOD_PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_that_rate_limits_need_a_shared_cache():
    env = {k: v for k, v in GOOD_PRODUCTION.items() if k != "CACHE_URL"}
    result = start_django(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "api.W001" in result.stderr and "DummyCache" in result.stderr
    assert "CACHE_URL" in result.stderr
    # Nor would a used two-factor code be refused when typed again.
    assert "accounts.W001" in result.stderr and "within its 90 seconds" in result.stderr


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({}, "True"),
        ({"ARTIFACT_TOKENS_REQUIRE_HTTPS": "false"}, "False"),
        ({"DJANGO_SETTINGS_MODULE": "mlteam.settings.local"}, "False"),
    ],
)
def test_production_sends_artifact_tokens_over_https_only(tmp_path, env, required):
    result = start_django(
        {**GOOD_PRODUCTION, "MLTEAM_VAR_DIR": str(tmp_path), **env},
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.ARTIFACT_TOKENS_REQUIRE_HTTPS)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == required


def test_local_settings_need_nothing_from_the_environment():
    result = start_django({"DJANGO_SETTINGS_MODULE": "mlteam.settings.local"}, "check")
    assert result.returncode == 0, result.stderr


def local_site(tmp_path, **env: str) -> tuple[str, list[str]]:
    """SITE_URL and ALLOWED_HOSTS as local settings (make run's processes) read them."""
    result = start_django(
        {"DJANGO_SETTINGS_MODULE": "mlteam.settings.local", "MLTEAM_VAR_DIR": str(tmp_path), **env},
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL, *settings.ALLOWED_HOSTS)",
    )
    assert result.returncode == 0, result.stderr
    site_url, *allowed_hosts = result.stdout.strip().splitlines()[-1].split()
    return site_url, allowed_hosts


def test_local_links_lead_to_the_address_make_run_serves(tmp_path):
    site_url, allowed_hosts = local_site(tmp_path, RUN_LOCAL_URL="http://mlteam.test:8801")
    assert site_url == "http://mlteam.test:8801"
    assert "mlteam.test" in allowed_hosts


def test_a_given_site_url_wins_over_make_runs_address(tmp_path):
    site_url, _ = local_site(
        tmp_path, RUN_LOCAL_URL="http://127.0.0.1:8801", SITE_URL="https://team.example.com/"
    )
    assert site_url == "https://team.example.com"


def test_local_links_default_to_port_8000(tmp_path):
    assert local_site(tmp_path)[0] == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8801"),
        ("localhost", "http://localhost:8801"),
        ("0.0.0.0", "http://127.0.0.1:8801"),  # noqa: S104
        ("::", "http://[::1]:8801"),
        ("::1", "http://[::1]:8801"),
    ],
)
def test_make_run_links_to_the_host_it_serves_or_loopback_for_a_wildcard(host, url):
    from mlteam.management.commands.run_local import served_url

    assert served_url(host, 8801) == url


def test_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    assert env_str("SOME_SECRET") == "from-a-file"


def test_unreadable_secret_file_is_named(monkeypatch):
    monkeypatch.setenv("SOME_SECRET_FILE", "/nonexistent/secret")
    with pytest.raises(EnvError, match="SOME_SECRET_FILE"):
        env_str("SOME_SECRET")


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("YES", True)])
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_int_minimum_is_enforced(monkeypatch):
    monkeypatch.setenv("PORTISH", "0")
    with pytest.raises(EnvError, match="PORTISH must be at least 1"):
        env_int("PORTISH", 25, minimum=1)


def test_email_url_is_parsed(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtp://mailer:p%40ss@smtp.example.com:2525?tls=true")
    config = env_email("EMAIL_URL")
    assert config == {
        "EMAIL_BACKEND": "mlteam.mail.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }


def test_smtps_defaults_to_port_465(monkeypatch):
    monkeypatch.setenv("EMAIL_URL", "smtps://smtp.example.com")
    config = env_email("EMAIL_URL")
    assert config["EMAIL_PORT"] == 465
    assert config["EMAIL_USE_SSL"] is True


def test_production_mail_goes_through_the_backend_that_tells_unknown_outcomes():
    env = {**GOOD_PRODUCTION, "EMAIL_URL": "smtp://mail.example.com:587?tls=true"}
    result = start_django(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def test_a_send_lease_shorter_than_the_slowest_send_stops_start_up():
    env = {
        **GOOD_PRODUCTION,
        "EMAIL_URL": "smtp://mail.example.com:587?tls=true",
        "EMAIL_TIMEOUT": "30",
        "REMINDER_SEND_LEASE_SECONDS": "300",
    }
    result = start_django(env, "check", "--deploy")
    assert result.returncode != 0
    assert "deliverables.E003" in result.stderr
    assert "REMINDER_SEND_LEASE_SECONDS (300) must be longer than the slowest send" in result.stderr
    assert "= 390 s" in result.stderr
