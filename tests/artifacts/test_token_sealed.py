"""Artifact systems' tokens are sealed at rest: the column never holds a usable token
(a database copy or backup gives nothing away), the poller still sends it, a key
rotation keeps it through SECRET_KEY_FALLBACKS, and the migration seals the tokens
saved before (and can be reversed)."""

from __future__ import annotations

import pytest

from deliverables.artifacts.models import ArtifactSystem
from tests.artifacts.helpers import link, poll_all, system
from tests.migrations import migrate_to, migrate_to_latest

TOKEN = "ghp_sealed_at_rest_0123456789"


@pytest.mark.django_db
def test_the_column_holds_no_usable_token_and_the_poll_still_sends_it(work, fake):
    github = fake()
    saved = system("github", github.url, token=TOKEN)
    (stored,) = ArtifactSystem.objects.values_list("encrypted_token", flat=True)
    assert stored and TOKEN not in stored
    assert ArtifactSystem.objects.get().token == TOKEN and saved.has_token
    link(work.deliverable, work.world.people["member"], "https://github.com/octo/f/pull/1")
    poll_all()
    assert github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.django_db
def test_a_key_rotation_keeps_the_token_through_the_fallbacks(settings):
    system("mlflow", "https://mlflow.example.com", token=TOKEN)
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key-" * 5, [old]
    assert ArtifactSystem.objects.get().token == TOKEN
    settings.SECRET_KEY_FALLBACKS = []
    lost = ArtifactSystem.objects.get()
    assert lost.token == "" and lost.has_token  # the admin sees a token to type again


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_seals_the_tokens_saved_in_clear_and_reverses():
    apps = migrate_to([("artifacts", "0003_error_kind_forbidden_address")])
    try:
        System = apps.get_model("artifacts", "ArtifactSystem")
        System.objects.create(kind="github", name="GH", base_url="https://a.test", token=TOKEN)
        System.objects.create(kind="gitlab", name="GL", base_url="https://b.test", token="")
        migrate_to([("artifacts", "0004_seal_tokens")])
        migrate_to_latest()
        rows = dict(ArtifactSystem.objects.values_list("name", "encrypted_token"))
        assert TOKEN not in rows["GH"] and rows["GL"] == ""
        assert ArtifactSystem.objects.get(name="GH").token == TOKEN
        apps = migrate_to([("artifacts", "0003_error_kind_forbidden_address")])
        System = apps.get_model("artifacts", "ArtifactSystem")
        assert dict(System.objects.values_list("name", "token")) == {"GH": TOKEN, "GL": ""}
    finally:
        migrate_to_latest()
