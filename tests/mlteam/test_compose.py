"""docker-compose.yml cannot run here, so check that it points at real entry points."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_services_are_present(compose):
    assert set(compose["services"]) == {"web", "worker", "beat", "postgres", "redis"}


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        assert "test" in service.get("healthcheck", {}), name


def test_beat_runs_exactly_once(compose):
    beat = compose["services"]["beat"]
    assert beat["deploy"]["replicas"] == 1
    assert "beat" in _command(beat)


def test_app_services_read_env_and_wait_for_healthy_dependencies(compose):
    for name in ("web", "worker", "beat"):
        service = compose["services"][name]
        assert ".env" in str(service["env_file"]), name
        for dependency in ("postgres", "redis"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy", name


def test_data_lives_on_volumes(compose):
    assert {"postgres-data", "redis-data"} <= set(compose["volumes"])


def test_web_runs_gunicorn_on_the_projects_wsgi_app_after_migrating(compose):
    command = " ".join(_command(compose["services"]["web"]))
    assert "manage.py migrate" in command
    match = re.search(r"gunicorn\s+(?:\S+\s+)*?([\w.]+):(\w+)", command)
    assert match, command
    module = importlib.import_module(match.group(1))
    assert callable(getattr(module, match.group(2)))


@pytest.mark.parametrize("service", ["worker", "beat"])
def test_celery_services_use_the_projects_app(compose, service):
    command = _command(compose["services"][service])
    assert command[:3] == ["celery", "-A", "mlteam"]
    app = importlib.import_module(command[2]).celery_app
    assert app.main == "mlteam"


def test_manage_py_commands_in_compose_exist(compose):
    commands = get_commands()
    text = yaml.safe_dump(compose)
    for name in re.findall(r"manage\.py (\w+)", text):
        assert name in commands, name


def test_env_example_documents_every_variable_settings_read():
    source = "\n".join(p.read_text() for p in (ROOT / "mlteam" / "settings").glob("*.py"))
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - {"CI"} <= documented, read - documented


def test_app_services_share_a_cache_for_rate_limits(compose):
    """Every web process counts API requests in the same Redis (mlteam/api/throttles.py)."""
    for name in ("web", "worker"):
        cache_url = compose["services"][name]["environment"]["CACHE_URL"]
        assert "redis://redis:6379/" in cache_url, name
