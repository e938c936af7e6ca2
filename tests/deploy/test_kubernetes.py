"""deploy/kubernetes: the Kustomize base and the production overlay render (kubectl
kustomize), every object validates against the Kubernetes schemas (kubernetes-validate,
strict: no unknown fields), and they run the image, commands and settings that
docker-compose.yml runs."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

from tests.conftest import require

ROOT = Path(settings.BASE_DIR)
KUBERNETES = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
PRODUCTION = KUBERNETES / "overlays" / "production"
# The oldest Kubernetes release still maintained when this was written, and the newest
# the validator knows: the manifests must hold on both.
VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
# Settings docker-compose.yml takes from .env that are the secrets (the Secret
# mlteam-secrets), and those that only the compose file's own postgres and port use.
SECRET_SETTINGS = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "EMAIL_URL",
    "EMAIL_HOST_PASSWORD",
    "METRICS_TOKEN",
    "SENTRY_DSN",
}
COMPOSE_ONLY = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "WEB_PORT"}


def _kubectl() -> str:
    found = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    require(found is not None, "kubectl (with kustomize) is needed to render deploy/kubernetes")
    return found


def _render(folder: Path) -> list[dict]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return _render(BASE)


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return _render(PRODUCTION)


def _named(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def _kinds(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_example_keys() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


@pytest.mark.parametrize("which", ["base", "production"])
@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(request, which, version):
    objects = request.getfixturevalue(which)
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} on {version}: {error.message}")


def test_the_base_holds_web_workers_one_beat_and_the_migration_job(base):
    deployments = {o["metadata"]["name"]: o for o in _kinds(base, "Deployment")}
    assert set(deployments) == {
        "mlteam-web",
        "mlteam-worker-default",
        "mlteam-worker-reminders",
        "mlteam-worker-deliveries",
        "mlteam-worker-polling",
        "mlteam-beat",
    }
    beat = deployments["mlteam-beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}
    job = _named(base, "Job", "mlteam-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # Scaled and protected: web and each worker, never beat.
    for kind in ("PodDisruptionBudget", "HorizontalPodAutoscaler"):
        names = {o["metadata"]["name"] for o in _kinds(base, kind)}
        assert names == set(deployments) - {"mlteam-beat"}, kind
    for hpa in _kinds(base, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] == hpa["metadata"]["name"]


def _containers(objects: list[dict]):
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            for container in obj["spec"]["template"]["spec"]["containers"]:
                yield obj, container


def test_every_container_has_resources_settings_and_runs_unprivileged(base):
    for obj, container in _containers(base):
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert set(container["resources"]) == {"requests", "limits"}, where
        assert container["envFrom"] == [
            {"configMapRef": {"name": "mlteam-settings"}},
            {"secretRef": {"name": "mlteam-secrets"}},
        ], where
        assert obj["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True, where
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, where


def test_web_probes_ask_readyz_and_healthz_as_an_allowed_host(production):
    web = _named(production, "Deployment", "mlteam-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    settings_map = _named(production, "ConfigMap", "mlteam-settings")["data"]
    hosts = settings_map["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path
        assert get["httpHeaders"] == [{"name": "Host", "value": hosts[0]}]
    ingress = _named(production, "Ingress", "mlteam")
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [hosts[0]]
    assert settings_map["SITE_URL"] == f"https://{hosts[0]}"


def test_the_same_image_and_commands_as_docker_compose(base, production):
    compose = _compose()
    services = compose["services"]
    image = services["web"]["image"]  # mlteam:latest, the image the Dockerfile builds
    name, tag = image.split(":")
    for _obj, container in _containers(base):
        assert container["image"] == f"{name}:{tag}"
    # The production overlay names one image for every container.
    assert len({container["image"] for _obj, container in _containers(production)}) == 1

    web = _named(base, "Deployment", "mlteam-web")["spec"]["template"]["spec"]["containers"][0]
    # compose: sh -c "python manage.py migrate --noinput && gunicorn ..." (here the Job migrates)
    _sh, _c, script = shlex.split(services["web"]["command"])
    gunicorn = shlex.split(script.split("&&", 1)[1])
    assert web["command"] == gunicorn
    assert (
        _named(base, "Deployment", "mlteam-beat")["spec"]["template"]["spec"]["containers"][0][
            "command"
        ]
        == services["beat"]["command"]
    )

    # The workers of every queue the compose worker consumes, with its options.
    compose_worker = services["worker"]["command"]
    queue_at = compose_worker.index("-Q") + 1
    queues = set()
    for obj in _kinds(base, "Deployment"):
        command = obj["spec"]["template"]["spec"]["containers"][0]["command"]
        if command[:4] == ["celery", "-A", "mlteam", "worker"]:
            assert command[:queue_at] == compose_worker[:queue_at]
            queues |= set(command[queue_at].split(","))
    assert queues == set(compose_worker[queue_at].split(",")) == set(settings.WORKER_QUEUES)
    # Every queue a task is routed to has workers.
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= queues


def test_the_settings_are_those_of_env_example(base):
    """Every setting docker-compose.yml reads from .env is either in the ConfigMap
    (with .env.example's value) or a secret: a setting added to one is added to both."""
    data = _named(base, "ConfigMap", "mlteam-settings")["data"]
    keys = _env_example_keys()
    assert set(data) == keys - SECRET_SETTINGS - COMPOSE_ONLY
    assert keys >= SECRET_SETTINGS
    example = dict(
        re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    )
    assert {key: data[key] for key in data} == {key: example[key] for key in data}
    assert _compose()["x-app"]["env_file"] == ".env"
