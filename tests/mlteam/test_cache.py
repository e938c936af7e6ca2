"""Dashboard results are cached until a write to anything they read."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.services import deliverable_create
from mlteam import cache
from roles.models import Membership
from roles.services import membership_add, project_create
from tests.factories import UserFactory, deliverable_type, manager_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "sql,watched",
    [
        ('UPDATE "deliverables_deliverable" SET "status" = %s', True),
        ('INSERT INTO "roles_membership" ("project_id") VALUES (%s)', True),
        ('DELETE FROM "roles_project_managers" WHERE id = 1', True),
        ('  update "auth_user_groups" set x = 1', True),
        ('INSERT INTO "deliverables_reminder" (a) VALUES (1)', False),
        ('UPDATE "deliverables_digest" SET "status" = %s', False),
        ('UPDATE "django_session" SET "session_data" = %s', False),
        ('SELECT * FROM "deliverables_deliverable"', False),
    ],
)
def test_which_writes_count(sql, watched):
    assert cache.watched_write(sql) is watched


def test_every_kind_of_write_moves_the_generation():
    manager = manager_user(username="lead")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    writes = [
        lambda: Deliverable.objects.filter(project=project).update(title="x"),  # update()
        lambda: project.managers.set([]),  # many-to-many
        lambda: manager.groups.remove(Group.objects.get(name="Managers")),  # permissions
        lambda: connection.cursor().execute(  # raw SQL through Django
            "UPDATE roles_project SET name = %s WHERE id = %s", ["Renamed", project.pk]
        ),
    ]
    for write in writes:
        before = cache.generation()
        write()
        assert cache.generation() != before


def test_reads_and_ignored_writes_leave_it():
    before = cache.generation()
    list(Deliverable.objects.all())
    assert cache.generation() == before


def test_a_rolled_back_write_only_costs_a_recompute():
    manager = manager_user(username="lead")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership_add(project=project, user=UserFactory(), actor=manager)
    before = cache.generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.all().delete()
        raise RuntimeError
    assert cache.generation() != before


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, len(captured)


def test_dashboard_is_served_from_the_cache_until_a_change(client):
    manager = manager_user(username="lead")
    member = UserFactory(username="kenji")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership_add(project=project, user=member, actor=manager)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("prd"),
        title="PRD",
        owner=member,
        actor=manager,
    )
    client.force_login(manager)
    url = reverse("deliverables:portfolio_dashboard")
    _first, cold = _queries(client, url)
    second, warm = _queries(client, url)
    assert warm < cold
    row = second.context["dashboard"].projects[0]
    assert row.count_of("not_started") == 1 and row.count_of("in_progress") == 0
    # A change through the ORM shows on the very next request.
    Deliverable.objects.filter(pk=deliverable.pk).update(status=DeliverableStatus.IN_PROGRESS)
    third, _ = _queries(client, url)
    row = third.context["dashboard"].projects[0]
    assert row.count_of("not_started") == 0 and row.count_of("in_progress") == 1


def test_losing_access_shows_at_once(client):
    manager = manager_user(username="lead")
    member = UserFactory(username="kenji")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership_add(project=project, user=member, actor=manager)
    client.force_login(member)
    url = reverse("roles:project_detail", args=[project.pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # from the cache
    Membership.objects.filter(user=member).delete()
    assert client.get(url).status_code == 404


def test_each_viewer_and_language_has_its_own_entry(client):
    manager = manager_user(username="lead")
    other = manager_user(username="other")
    project_create(name="Churn", managers=[manager], actor=manager)
    url = reverse("deliverables:portfolio_dashboard")
    client.force_login(manager)
    assert [p.name for p in client.get(url).context["dashboard"].projects] == ["Churn"]
    client.force_login(other)
    assert client.get(url).context["dashboard"].projects == []
    client.force_login(manager)
    english = client.get(url).content.decode()
    japanese = client.get(url, headers={"accept-language": "ja"}).content.decode()
    assert "Overdue" in english and "期限切れ" in japanese


def test_cache_url_must_be_redis(monkeypatch):
    from mlteam.settings.env import EnvError, env_cache

    monkeypatch.setenv("CACHE_URL", "memcached://x")
    with pytest.raises(EnvError, match="CACHE_URL must be a redis:// URL"):
        env_cache("CACHE_URL", "dummy")
    monkeypatch.setenv("CACHE_URL", "")
    assert env_cache("CACHE_URL", "dummy") == {"BACKEND": "dummy"}


def test_web_workers_share_the_generation_through_redis():
    """Production's shared cache: a bump by one process is seen by every other."""
    import redis
    from django.conf import settings
    from django.core.cache.backends.redis import RedisCache

    from tests.conftest import require

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url).ping()
        reachable = True
    except redis.exceptions.ConnectionError:
        reachable = False
    require(reachable or not settings.CI, "Redis on 127.0.0.1:6379")
    if not reachable:
        pytest.skip("Redis on 127.0.0.1:6379")
    other_process = RedisCache(url, {})
    redis_settings = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                  "LOCATION": url}}  # fmt: skip
    with override_settings(CACHES=redis_settings):
        other_process.delete(cache.KEY)
        first = cache.generation()
        assert other_process.get(cache.KEY) == first
        Membership.objects.filter(pk=0).update(user_id=0)  # a watched write
        assert other_process.get(cache.KEY) > first
        hits = []
        for _ in range(2):
            cache.cached("bench", UserFactory(username="r"), (), lambda: hits.append(1) or 7)
        assert hits == [1]


def test_an_unreachable_cache_never_breaks_a_write_or_a_page(client):
    """Redis down in production: writes still commit and dashboards still render."""
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    manager = manager_user(username="lead")
    with override_settings(CACHES=dead):
        project = project_create(name="Churn", managers=[manager], actor=manager)
        client.force_login(manager)
        response = client.get(reverse("deliverables:portfolio_dashboard"))
    assert response.status_code == 200
    assert [p.name for p in response.context["dashboard"].projects] == [project.name]


def test_one_after_commit_move_per_transaction():
    manager = manager_user(username="lead")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    with transaction.atomic():
        for name in ("One", "Two", "Three"):
            Deliverable.objects.filter(project=project).update(title=name)
        pending = [entry for entry in connection.run_on_commit if entry[1] is cache.bump]
        assert len(pending) == 1
