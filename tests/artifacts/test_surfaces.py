"""Where the live states show: the deliverable page, the project page, the owner's
digest and the project's chat summary; each only to people who may see the work,
in a number of queries that does not grow with the data; and the admin, which
never shows a token back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables import reminders
from deliverables.artifacts import selectors
from deliverables.artifacts.models import ArtifactSystem
from deliverables.models import Deliverable, DeliverableStatus
from deliverables.services import deliverable_create
from roles.services import membership_remove
from tests.artifacts import servers
from tests.artifacts.helpers import link, poll_all, system
from tests.factories import deliverable_type
from tests.notifications.conftest import (  # noqa: F401 (fixtures)
    loopback_allowed,
    receiver,
    receivers,
)

pytestmark = pytest.mark.django_db

SHA = "9fceb02d0ae598e95dc970b74767f19372d61af8"
REPO = "/repos/octo/forecast"


@pytest.fixture
def github(fake):
    server = fake()
    server.answer(
        f"{REPO}/commits/{SHA}/status",
        servers.github_combined_status(SHA, "failure", [("unit tests", "failure")]),
    )
    server.answer(f"{REPO}/commits/{SHA}/check-runs", servers.github_check_runs())
    system("github", server.url)
    return server


def _red_commit(deliverable, actor, *, status=DeliverableStatus.IN_REVIEW):
    added = link(deliverable, actor, f"https://github.com/octo/forecast/commit/{SHA}")
    Deliverable.objects.filter(pk=deliverable.pk).update(status=status)
    return added


def test_the_deliverable_page_shows_each_links_state(client, work, github):
    member = work.world.people["member"]
    _red_commit(work.deliverable, member)
    link(work.deliverable, member, "https://airflow.example.org/dags/nightly_scores")
    poll_all()
    client.force_login(member)
    page = client.get(reverse("deliverables:detail", args=[work.deliverable.pk])).content.decode()
    assert "Live status of linked artifacts" in page
    assert "Failing" in page and "CI: failing" in page
    # The Airflow link: no Airflow system is connected.
    assert "Not polled: no system configured" in page


def test_errors_are_named_to_admins_only(client, work, fake):
    mlflow = fake()
    mlflow.answer("/api/2.0/mlflow/registered-models/alias", {"error_code": "X"}, status=401)
    system("mlflow", mlflow.url)
    link(work.deliverable, work.world.people["member"], "models:/churn@production")
    poll_all()
    url = reverse("deliverables:detail", args=[work.deliverable.pk])
    client.force_login(work.world.people["member"])
    page = client.get(url).content.decode()
    assert "could not be read" in page and "token is missing" not in page
    client.force_login(work.world.people["admin"])
    assert "token is missing" in client.get(url).content.decode()


def test_the_project_page_summarises_the_projects_states(client, work, github):
    _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    client.force_login(work.world.people["colleague"])
    page = client.get(reverse("roles:project_panels", args=[work.world.project.pk]))
    text = page.content.decode()
    assert "Linked artifacts" in text and "octo/forecast@9fceb02" in text


def test_nothing_leaks_to_people_who_may_not_see_the_project(client, work, github):
    member = work.world.people["member"]
    _red_commit(work.deliverable, member)
    poll_all()
    for persona in ("outsider", "other_manager"):
        user = work.world.people[persona]
        links = list(work.deliverable.links.all())
        assert selectors.link_statuses(user=user, deliverable=work.deliverable, links=links) == {}
        assert selectors.project_artifacts(user=user, project_id=work.world.project.pk) is None
        assert selectors.red_artifacts(user=user, project_id=work.world.project.pk) == []
        client.force_login(user)
        assert (
            client.get(reverse("deliverables:detail", args=[work.deliverable.pk])).status_code
            == 404
        )
        for name in ("roles:project_detail", "roles:project_panels"):
            assert client.get(reverse(name, args=[work.world.project.pk])).status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_page_queries_do_not_grow_with_links_and_states(client, work, fake, settings):
    """Deliverable page: + the active systems and the page's states (two queries).
    Project page: + the counts by state and the failing rows (two at most)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    server = fake()
    system("github", server.url)
    member, manager = work.world.people["member"], work.world.people["manager"]

    def grow(n):
        for i in range(n):
            sha = f"{i + 1:07x}" + SHA[7:]
            server.answer(
                f"{REPO}/commits/{sha}/status", servers.github_combined_status(sha, "failure")
            )
            server.answer(
                f"{REPO}/commits/{sha}/check-runs",
                servers.github_check_runs(("tests", "completed", "failure")),
            )
            other = deliverable_create(
                project=work.world.project,
                type=deliverable_type("deployed-model"),
                title=f"Model {n}-{i}",
                owner=member,
                actor=manager,
            )
            for target in (work.deliverable, other):
                link(target, member, f"https://github.com/octo/forecast/commit/{sha}")
                Deliverable.objects.filter(pk=target.pk).update(status="in_review")
        poll_all(datetime.now(UTC).replace(year=2030))

    client.force_login(member)
    urls = [
        reverse("deliverables:detail", args=[work.deliverable.pk]),
        reverse("roles:project_detail", args=[work.world.project.pk]),
        reverse("roles:project_panels", args=[work.world.project.pk]),
    ]
    grow(1)
    small = [_queries(client, url) for url in urls]
    grow(4)
    large = [_queries(client, url) for url in urls]
    assert small == large


# --- the owner's digest ------------------------------------------------------------------

MONDAY_0930_UTC = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def _sweep(now, capture):
    with capture(execute=True):
        reminders.reminder_sweep(
            now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now)
        )


def test_red_ci_on_work_in_review_is_in_its_owners_digest(
    work, github, settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "UTC"
    member = work.world.people["member"]
    _red_commit(work.deliverable, member)
    # The colleague's work is still in progress: red CI there is no digest news.
    _red_commit(work.colleagues, work.world.people["colleague"], status="in_progress")
    poll_all()
    _sweep(MONDAY_0930_UTC, django_capture_on_commit_callbacks)
    (message,) = [m for m in mail.outbox if m.to == [member.email]]
    assert "Failing CI or pipelines on your work in review or done" in message.body
    assert "octo/forecast@9fceb02d0ae5"[:20] in message.body and "CI is failing" in message.body
    assert "1 failing check on your work" in message.subject
    assert f"/deliverables/{work.deliverable.pk}/#links" in message.body
    assert not [m for m in mail.outbox if m.to == [work.world.people["colleague"].email]]


def test_an_owner_who_lost_the_project_hears_nothing_of_it(
    work, github, settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "UTC"
    member = work.world.people["member"]
    _red_commit(work.deliverable, member)
    poll_all()
    section = next(s for s in reminders.digest_sections if s.name == "artifacts")
    assert member.pk in set(section.recipients(date(2026, 11, 30)))
    membership_remove(
        membership=work.world.membership, actor=work.world.people["manager"], version=None
    )
    Deliverable.objects.filter(pk=work.deliverable.pk).update(owner=member)
    assert selectors.red_artifacts(user=member, owner_ids=[member.pk]) == []
    _sweep(MONDAY_0930_UTC, django_capture_on_commit_callbacks)
    assert not [m for m in mail.outbox if "Failing CI" in m.body]


# --- the project's chat summary ---------------------------------------------------------


def test_the_chat_summary_names_failing_ci_on_work_in_review(
    work,
    github,
    receiver,  # noqa: F811
    loopback_allowed,  # noqa: F811
):
    from mlteam.notifications.channels import selectors as chat_selectors
    from mlteam.notifications.channels import wording
    from tests.notifications.channels.conftest import add_channel

    _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    manager = work.world.people["manager"]
    channel = add_channel(work.world.project, manager, receiver.url)
    today = date(2026, 12, 4)
    summary = chat_selectors.channel_summary(channel=channel, today=today)
    message = wording.summary_message(channel, summary, today)
    (section,) = [s for s in message.sections if s.heading == "Failing CI and pipelines"]
    assert section.lines[0].text == work.deliverable.label
    assert "CI is failing" in section.lines[0].detail
    # Visibility is asked at send time: were the channel's author an outsider now,
    # the summary would tell nothing of the project's work.
    from mlteam.notifications.channels.models import ChatChannel

    ChatChannel.objects.filter(pk=channel.pk).update(created_by=work.world.people["outsider"])
    channel.refresh_from_db()
    summary = chat_selectors.channel_summary(channel=channel, today=today)
    assert summary.alerts == []


# --- the admin ---------------------------------------------------------------------------


def test_the_admin_never_draws_the_token_back(client, work):
    admin = work.world.people["admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    add = client.post(
        reverse("admin:artifacts_artifactsystem_add"),
        {
            "kind": "github",
            "name": "GitHub",
            "base_url": "https://api.github.com",
            "link_host": "github.com",
            "active": "on",
            "poll_minutes": 10,
            "new_token": "ghp_never_shown_again",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    saved = ArtifactSystem.objects.get()
    assert saved.token == "ghp_never_shown_again"
    change_url = reverse("admin:artifacts_artifactsystem_change", args=[saved.pk])
    page = client.get(change_url).content.decode()
    assert "ghp_never_shown_again" not in page
    assert (
        "ghp_never_shown_again"
        not in client.get(reverse("admin:artifacts_artifactsystem_changelist")).content.decode()
    )
    # Saving without typing a token keeps it; "remove" clears it.
    data = {
        "kind": "github",
        "name": "GitHub.com",
        "base_url": "https://api.github.com",
        "link_host": "github.com",
        "active": "on",
        "poll_minutes": 5,
        "version": saved.version,
        "new_token": "",
    }
    assert client.post(change_url, data).status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.token) == ("GitHub.com", "ghp_never_shown_again")
    assert (
        client.post(
            change_url, {**data, "version": saved.version, "remove_token": "on"}
        ).status_code
        == 302
    )
    saved.refresh_from_db()
    assert saved.token == ""


def test_the_admin_refuses_a_base_address_with_credentials(client, work):
    admin = work.world.people["admin"]
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    response = client.post(
        reverse("admin:artifacts_artifactsystem_add"),
        {
            "kind": "mlflow",
            "name": "MLflow",
            "base_url": "https://user:pw@mlflow.example.com",
            "active": "on",
            "poll_minutes": 10,
        },
    )
    assert response.status_code == 200
    assert "without a user name" in response.content.decode()
    assert not ArtifactSystem.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://mlflow.example.com",
        "https://user:pw@mlflow.example.com",
        "https://mlflow.example.com/?token=x",
        "http://169.254.169.254/latest",
        "http://[fe80::1]:8080",
    ],
)
def test_the_service_refuses_base_addresses_it_should_not_call(db, url):
    from django.core.exceptions import ValidationError

    from deliverables.artifacts.services import artifact_system_create

    with pytest.raises(ValidationError) as refused:
        artifact_system_create(kind="mlflow", name="MLflow", base_url=url)
    assert "base_url" in refused.value.message_dict
    assert not ArtifactSystem.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "x" * 100_000, str(10**30), "-1", "<script>alert(1)</script>", "models:/ x/1"],
    ids=lambda value: f"{len(value)}chars",
)
def test_bad_link_input_is_refused_without_a_500(client, work, value):
    client.force_login(work.world.people["member"])
    url = reverse("deliverables:link_add", args=[work.deliverable.pk])
    before = list(work.deliverable.links.values_list("pk", flat=True))
    for kind in ("", "github_pr", "mlflow_model", value):
        response = client.post(url, {"kind": kind, "url": value, "label": value[:200]})
        assert response.status_code == 422, (kind, response.status_code)
    assert list(work.deliverable.links.values_list("pk", flat=True)) == before


def test_the_cached_project_page_shows_a_new_state_after_a_poll(client, work, fake, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    server = fake()
    server.answer(
        f"{REPO}/commits/{SHA}/status",
        servers.github_combined_status(SHA, "success", [("ci", "success")]),
    )
    server.answer(f"{REPO}/commits/{SHA}/check-runs", servers.github_check_runs())
    system("github", server.url)
    added = _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    client.force_login(work.world.people["manager"])
    url = reverse("roles:project_panels", args=[work.world.project.pk])
    assert "Nothing failing or in progress." in client.get(url).content.decode()
    server.answer(
        f"{REPO}/commits/{SHA}/status",
        servers.github_combined_status(SHA, "failure", [("ci", "failure")]),
    )
    from deliverables.artifacts.models import ArtifactState

    ArtifactState.objects.filter(link=added).update(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC))
    poll_all()
    page = client.get(url).content.decode()
    assert "Nothing failing or in progress." not in page and "Failing" in page


def test_the_japanese_deliverable_page_renders_the_states(client, work, github):
    from django.utils import translation

    _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    client.force_login(work.world.people["member"])
    with translation.override("ja"):
        response = client.get(
            reverse("deliverables:detail", args=[work.deliverable.pk]), HTTP_ACCEPT_LANGUAGE="ja"
        )
    assert response.status_code == 200 and 'lang="ja"' in response.content.decode()
    assert 'id="artifact-status"' in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "facts", "words"),
    [
        ("github_pr", {"ci": "failure", "pr_state": "open"}, "CI is failing"),
        ("gitlab_commit", {"ci": "failed"}, "CI is failing"),
        ("airflow_dag_run", {"run_state": "failed"}, "the last pipeline run failed"),
        ("mlflow_run", {"run_state": "killed"}, "the run ended as stopped"),
        ("mlflow_model", {"version": "3"}, "the model version failed to register"),
    ],
)
def test_what_is_wrong_is_said_for_each_kind(kind, facts, words):
    from deliverables.artifacts.hooks import red_words

    assert red_words(kind, facts) == words


def test_the_dry_run_names_the_failing_work(work, github, settings, capsys):
    from django.core.management import call_command

    settings.TIME_ZONE = "UTC"
    _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    call_command("send_reminders", "--dry-run", "--now", "2026-11-30T09:30:00+00:00")
    out = capsys.readouterr().out
    assert f"failing artifact: {work.deliverable.label}" in out
    assert mail.outbox == []


def test_admins_can_have_a_systems_links_polled_at_once(client, work, github):
    from datetime import timedelta

    from django.utils import timezone

    _red_commit(work.deliverable, work.world.people["member"])
    poll_all()
    source = ArtifactSystem.objects.get()
    ArtifactSystem.objects.filter(pk=source.pk).update(
        backoff_until=timezone.now() + timedelta(hours=1)
    )
    from deliverables.artifacts.services import artifacts_sweep

    assert artifacts_sweep() == []
    client.force_login(work.world.people["admin"])
    response = client.post(
        reverse("admin:artifacts_artifactsystem_changelist"),
        {"action": "poll_now", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "1 link will be polled within a minute." in response.content.decode()
    assert len(artifacts_sweep()) == 1
