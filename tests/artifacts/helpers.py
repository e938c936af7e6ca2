from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deliverables.artifacts import services
from deliverables.artifacts.models import ArtifactState, ArtifactSystem
from deliverables.models import DeliverableLink
from deliverables.services import link_add


def system(kind: str, url: str, *, token: str = "s3cret-token", **fields) -> ArtifactSystem:
    return services.artifact_system_create(
        kind=kind, name=f"{kind} test", base_url=url, token=token, **fields
    )


def link(deliverable, actor, url: str, kind: str = "") -> DeliverableLink:
    return link_add(deliverable=deliverable, actor=actor, kind=kind, url=url)


def poll_all(now=None) -> list[int]:
    """One sweep and the polls it hands out, as the worker would run them."""
    now = now or timezone.now()
    ids = services.artifacts_sweep(now=now)
    for state_id in ids:
        services.artifact_poll(state_id=state_id, now=now)
    return ids


def state_of(link) -> ArtifactState:
    return ArtifactState.objects.get(link=link)


def later(minutes: int = 11):
    return timezone.now() + timedelta(minutes=minutes)
