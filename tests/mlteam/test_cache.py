"""Dashboards are cached under explicit versions that the services move when they
change what a dashboard shows (mlteam/cache.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables.models import Deliverable, DeliverableStatus
from deliverables.reviews.services import cycle_create, expectations_write
from deliverables.services import (
    ChecklistAnswer,
    checklist_update,
    deliverable_create,
    deliverable_transition,
    deliverable_update,
)
from mlteam import cache
from mlteam.people import person_name
from roles.services import membership_add, project_create, project_update, role_assign
from tests.factories import PASSWORD, UserFactory, admin_user, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _midday():
    """Today at noon, the clock running: a dashboard's key holds the day, so a run
    that crossed midnight between two requests would miss the cache."""
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        yield


PORTFOLIO = reverse("deliverables:portfolio_dashboard")
PORTFOLIO_ACTIVITY = reverse("deliverables:portfolio_activity")  # fetched by the portfolio
HOME = reverse("home")


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, len(captured)


@pytest.fixture
def team():
    """A manager's project with one member owning one deliverable."""
    manager = manager_user(username="lead")
    member = UserFactory(username="kenji", first_name="Kenji")
    project = project_create(name="Churn", managers=[manager], actor=manager)
    membership = membership_add(project=project, user=member, actor=manager)
    deliverable = deliverable_create(
        project=project,
        type=deliverable_type("prd"),
        title="PRD",
        owner=member,
        due_date=timezone.localdate() + timedelta(days=3),
        actor=manager,
    )
    return manager, member, project, membership, deliverable


def _page(team) -> str:
    return reverse("roles:project_detail", args=[team[2].pk])


def _start(deliverable, actor) -> None:
    """A change the portfolio and its workload and activity show: work started."""
    deliverable_transition(
        deliverable=deliverable,
        actor=actor,
        to_status=DeliverableStatus.IN_PROGRESS,
        version=deliverable.version,
    )


def test_a_dashboard_is_served_from_the_cache_until_a_change(client, team):
    manager, _member, _project, _membership, deliverable = team
    client.force_login(manager)
    _first, cold = _queries(client, PORTFOLIO)
    second, warm = _queries(client, PORTFOLIO)
    # Session and user, the manager check's permissions: no dashboard query.
    assert warm < cold and warm == 3
    row = second.context["dashboard"].projects[0]
    assert row.count_of("not_started") == 1 and row.count_of("in_progress") == 0
    _start(deliverable, manager)
    third, recomputed = _queries(client, PORTFOLIO)
    row = third.context["dashboard"].projects[0]
    assert row.count_of("not_started") == 0 and row.count_of("in_progress") == 1
    assert recomputed > warm


def test_the_portfolios_workload_and_activity_are_cached_until_a_change(client, team):
    manager, member, _project, _membership, deliverable = team
    client.force_login(manager)
    first, cold = _queries(client, PORTFOLIO_ACTIVITY)
    second, warm = _queries(client, PORTFOLIO_ACTIVITY)
    assert warm < cold and warm == 3  # session, user, the manager check: no section query
    assert second.context["sections"] == first.context["sections"]
    changes = len(second.context["sections"].activity)
    _start(deliverable, member)
    third, recomputed = _queries(client, PORTFOLIO_ACTIVITY)
    sections = third.context["sections"]
    assert recomputed > warm
    assert len(sections.activity) == changes + 1
    assert sections.activity[0].label == "changed the status"


# Each change below makes it and returns how the project page shows it.


def _project_edit(team):
    manager, _member, project, _membership, _deliverable = team
    project_update(project=project, actor=manager, version=project.version, name="Attrition")
    return lambda context: context["project"].name == "Attrition"


def _team_change(team):
    manager, _member, project, _membership, _deliverable = team
    membership_add(
        project=project, user=UserFactory(first_name="Aiko", last_name="Sato"), actor=manager
    )
    return lambda context: "Aiko Sato" in [column.name for column in context["coverage"].people]


def _role_assignment(team):
    _manager, _member, _project, membership, _deliverable = team
    role_assign(membership=membership, role=role("data-scientist"), allocation_percent=40)
    return lambda context: [column.allocation_here for column in context["coverage"].people] == [40]


def _status(team):
    manager, _member, _project, _membership, deliverable = team
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=DeliverableStatus.BLOCKED,
        version=deliverable.version,
        reason="Waiting for data",
    )
    return lambda context: (
        ("blocked", "Blocked", 1)
        in [(status, str(label), n) for status, label, n in context["work"].by_status]
    )


def _owner_and_due_date(team):
    manager, _member, project, _membership, deliverable = team
    someone = UserFactory(first_name="Priya", last_name="Shah")
    membership_add(project=project, user=someone, actor=manager)
    deliverable.refresh_from_db()
    deliverable_update(
        deliverable=deliverable,
        actor=manager,
        version=deliverable.version,
        title="PRD",
        owner=someone,
        due_date=timezone.localdate() - timedelta(days=2),
        type=deliverable.type,
    )
    return lambda context: [d.owner_name for d in context["work"].overdue] == ["Priya Shah"]


def _checklist(team):
    manager, _member, _project, _membership, deliverable = team
    items = list(deliverable.checklist_items.order_by("pk"))
    checklist_update(
        deliverable=deliverable,
        actor=manager,
        version=deliverable.version,
        answers={
            item.pk: ChecklistAnswer(checked=True, answer="x", link="https://x.test")
            for item in items
        },
    )
    return lambda context: [d.items_done for d in context["work"].progress] == [len(items)]


@pytest.mark.parametrize(
    "change",
    [_project_edit, _team_change, _role_assignment, _status, _owner_and_due_date, _checklist],
)
def test_each_kind_of_change_shows_on_the_very_next_request(client, team, change):
    client.force_login(team[0])
    url = _page(team)
    client.get(url)
    before, warm = _queries(client, url)
    shown = change(team)
    after, recomputed = _queries(client, url)
    assert not shown(before.context) and shown(after.context)
    assert recomputed > warm


def test_a_change_recomputes_only_the_dashboards_of_people_who_may_see_it(client, team):
    manager, member, _project, _membership, _deliverable = team
    other = manager_user(username="other")
    project_create(name="Search", managers=[other], actor=other)
    warm = {}
    for viewer in (manager, member, other):
        client.force_login(viewer)
        client.get(HOME)
        warm[viewer.pk] = _queries(client, HOME)[1]
    _status(team)
    for viewer, recomputed in ((manager, True), (member, True), (other, False)):
        client.force_login(viewer)
        assert (_queries(client, HOME)[1] > warm[viewer.pk]) is recomputed


def test_the_catalogue_edited_in_the_admin_shows_at_once(client, team):
    manager = team[0]
    superuser = admin_user(username="root")
    _role_assignment(team)
    client.force_login(manager)
    url = _page(team)
    assert "Data scientist" in client.get(url).content.decode()
    ds = role("data-scientist")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:roles_role_change", args=[ds.pk]),
        {
            "name": "Statistician",
            "slug": ds.slug,
            "position": ds.position,
            "version": ds.version,
            "deliverable_types-TOTAL_FORMS": 0,
            "deliverable_types-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    client.force_login(manager)
    page = client.get(url).content.decode()
    assert "Statistician" in page and "Data scientist" not in page


def _user_form(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": user.date_joined.time().strftime("%H:%M:%S"),
        "groups": [group.pk for group in user.groups.all()],
    }
    for flag in ("is_active", "is_staff", "is_superuser"):
        if getattr(user, flag):
            data[flag] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_losing_the_manager_group_in_the_admin_shows_at_once(client, team):
    manager = team[0]
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(manager)
    url = _page(team)
    assert client.get(url).status_code == 200  # a manager listed on it, not on the team
    assert client.get(url).status_code == 200  # from the cache
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_change", args=[manager.pk]), _user_form(manager, groups=[])
    )
    assert response.status_code == 302
    assert not manager.groups.exists()
    client.force_login(manager)
    assert client.get(url).status_code == 404


def test_a_deactivation_in_the_admin_leaves_the_workload_at_once(client, team):
    manager, member, *_ = team
    client.force_login(manager)
    workload = client.get(PORTFOLIO_ACTIVITY).context["sections"].workload
    assert [person.pk for person in workload] == [member.pk]
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_change", args=[member.pk]), _user_form(member, is_active=None)
    )
    assert response.status_code == 302
    client.force_login(manager)
    assert client.get(PORTFOLIO_ACTIVITY).context["sections"].workload == []


def test_a_group_losing_a_permission_shows_at_once(client, team):
    manager = team[0]
    client.force_login(manager)
    url = _page(team)
    assert client.get(url).status_code == 200
    managers = Group.objects.get(name="Managers")
    managers.permissions.remove(*managers.permissions.filter(codename="add_project"))
    assert client.get(url).status_code == 404


def test_a_review_waiting_shows_on_the_home_page_at_once(client, team):
    manager, member, *_ = team
    client.force_login(member)
    assert "Waiting for you to read" not in client.get(HOME).content.decode()
    today = timezone.localdate()
    cycle = cycle_create(
        actor=manager,
        name="H1",
        start_date=today,
        end_date=today + timedelta(days=90),
        expectations_due_days=14,
    )
    expectations_write(cycle=cycle, person=member, actor=manager, text="Ship", deliverables=[])
    assert "Waiting for you to read" in client.get(HOME).content.decode()


def test_a_restore_recomputes_everything(client, team):
    client.force_login(team[0])
    _first, cold = _queries(client, HOME)
    _second, warm = _queries(client, HOME)
    cache.bump()  # what mlteam.backups.backup_restore calls last
    _third, after = _queries(client, HOME)
    assert warm < cold and after > warm


def test_a_sign_in_invalidates_nothing(client, team, monkeypatch):
    manager, member, *_ = team
    for user in (manager, member):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    client.force_login(manager)
    client.get(PORTFOLIO)
    _warm, warm = _queries(client, PORTFOLIO)
    moved = []
    monkeypatch.setattr(cache, "_move", moved.append)
    client.logout()
    # Moves last_login (axes, checking the sign-in, needs a request).
    assert client.login(request=HttpRequest(), username="kenji", password=PASSWORD)
    assert client.login(request=HttpRequest(), username="lead", password=PASSWORD)
    assert moved == []
    _response, queries = _queries(client, PORTFOLIO)
    assert queries == warm


def test_each_viewer_and_language_has_its_own_entry(client):
    manager = manager_user(username="lead")
    other = manager_user(username="other")
    project_create(name="Churn", managers=[manager], actor=manager)
    client.force_login(manager)
    assert [p.name for p in client.get(PORTFOLIO).context["dashboard"].projects] == ["Churn"]
    client.force_login(other)
    assert client.get(PORTFOLIO).context["dashboard"].projects == []
    client.force_login(manager)
    english = client.get(PORTFOLIO).content.decode()
    japanese = client.get(PORTFOLIO, headers={"accept-language": "ja"}).content.decode()
    assert "Overdue" in english and "期限切れ" in japanese
    # Its workload and activity too: the activity's words are kept in each language.
    english = client.get(PORTFOLIO_ACTIVITY).content.decode()
    japanese = client.get(PORTFOLIO_ACTIVITY, headers={"accept-language": "ja"}).content.decode()
    assert "created the project" in english and "がプロジェクトを作成しました" not in english
    assert "がプロジェクトを作成しました" in japanese and "created the project" not in japanese
    client.force_login(other)
    assert client.get(PORTFOLIO_ACTIVITY).context["sections"].activity == []


def test_admins_see_a_new_project_at_once(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get(PORTFOLIO).context["dashboard"].projects == []
    manager = manager_user(username="lead")
    project_create(name="Churn", managers=[manager], actor=manager)
    assert [p.name for p in client.get(PORTFOLIO).context["dashboard"].projects] == ["Churn"]


def test_an_admins_dashboard_hangs_on_one_version_for_every_project(client, team):
    """An admin sees every project: a change to any of them recomputes their
    dashboard, and serving it from the cache reads no version per project."""
    manager, _member, _project, _membership, deliverable = team
    for number in range(3):
        project_create(name=f"Other {number}", managers=[manager], actor=manager)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    client.get(PORTFOLIO)
    from django.core.cache import cache as django_cache

    read = []
    get_many = django_cache.get_many

    def counting(keys, *args, **kwargs):
        read.extend(keys)
        return get_many(keys, *args, **kwargs)

    django_cache.get_many = counting
    try:
        row = client.get(PORTFOLIO).context["dashboard"].projects[0]
    finally:
        del django_cache.get_many
    assert row.name == "Churn" and row.count_of("in_progress") == 0
    assert not [key for key in read if key.startswith("mlteam:v:project:")]
    deliverable_transition(
        deliverable=deliverable,
        actor=manager,
        to_status=DeliverableStatus.IN_PROGRESS,
        version=deliverable.version,
    )
    row = client.get(PORTFOLIO).context["dashboard"].projects[0]
    assert row.count_of("in_progress") == 1


def test_a_scope_given_as_a_function_is_read_only_to_recompute(team):
    # Who sees every project is kept with the entry (guarded by the person's own
    # version), so a page served from the cache does not decide it again.
    manager, project = team[0], team[2]
    asked = []

    def scope():
        asked.append(1)
        return cache.Scope(projects=[project.pk])

    assert cache.cached("scoped", manager, (), lambda: 7, scope) == 7
    assert cache.cached("scoped", manager, (), lambda: 8, scope) == 7
    assert asked == [1]
    cache.project_changed(project.pk)
    assert cache.cached("scoped", manager, (), lambda: 9, scope) == 9
    assert asked == [1, 1]


def test_an_entry_stored_in_the_former_layout_is_recomputed(team):
    # Entries written before a deploy that added "keys" expire on their own; until
    # then they are recomputed and replaced rather than failing the read.
    from django.core.cache import cache as django_cache
    from django.utils import translation

    manager = team[0]
    key = f"mlteam:old:{manager.pk}:{translation.get_language()}"
    django_cache.set(key, {"shared": ["x", "y", "z"], "projects": {}, "value": 1})
    assert cache.cached("old", manager, (), lambda: 2, cache.Scope(projects=[])) == 2
    assert cache.cached("old", manager, (), lambda: 3, cache.Scope(projects=[])) == 2
    # An entry that kept its value unpickled (before "pickled") is recomputed too.
    entry = django_cache.get(key)
    django_cache.set(key, {**{k: v for k, v in entry.items() if k != "pickled"}, "value": 4})
    assert cache.cached("old", manager, (), lambda: 5, cache.Scope(projects=[])) == 5


def test_becoming_an_admin_shows_every_project_at_once(client, team):
    manager = team[0]
    other = project_create(name="Fraud", managers=[UserFactory()], actor=None)
    client.force_login(manager)
    assert [p.name for p in client.get(PORTFOLIO).context["dashboard"].projects] == ["Churn"]
    manager.is_superuser = True
    manager.save()
    names = [p.name for p in client.get(PORTFOLIO).context["dashboard"].projects]
    assert names == ["Churn", other.name]
    project_create(name="Growth", managers=[UserFactory()], actor=None)
    names = [p.name for p in client.get(PORTFOLIO).context["dashboard"].projects]
    assert names == ["Churn", "Fraud", "Growth"]


def test_cache_url_must_be_redis(monkeypatch):
    from mlteam.settings.env import EnvError, env_cache

    monkeypatch.setenv("CACHE_URL", "memcached://x")
    with pytest.raises(EnvError, match="CACHE_URL must be a redis:// URL"):
        env_cache("CACHE_URL", "dummy")
    monkeypatch.setenv("CACHE_URL", "")
    assert env_cache("CACHE_URL", "dummy") == {"BACKEND": "dummy"}


def test_web_workers_share_the_versions_through_redis(team):
    """Production's shared cache: a change made by one process is seen by every other."""
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
    manager, _member, project, _membership, _deliverable = team
    other_process = RedisCache(url, {})
    redis_settings = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                  "LOCATION": url}}  # fmt: skip
    used = [
        f"mlteam:bench:{manager.pk}:en",
        cache.EVERYTHING,
        cache.CATALOGUE,
        cache.person_key(manager.pk),
        cache.project_key(project.pk),
    ]
    with override_settings(CACHES=redis_settings):
        other_process.delete_many(used)  # left by an earlier run
        scope = cache.Scope(projects=[project.pk])
        hits = []
        for _ in range(2):
            cache.cached("bench", manager, (), lambda: hits.append(1) or 7, scope)
        assert hits == [1]
        first = other_process.get(cache.project_key(project.pk))
        _status(team)
        assert other_process.get(cache.project_key(project.pk)) != first
        cache.cached("bench", manager, (), lambda: hits.append(1) or 7, scope)
        assert hits == [1, 1]
        other_process.delete_many(used)


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
        response = client.get(PORTFOLIO)
    assert response.status_code == 200
    assert [p.name for p in response.context["dashboard"].projects] == [project.name]


def test_a_version_moves_at_once_and_once_more_after_the_commit():
    from django.core.cache import cache as django_cache

    key = cache.project_key(4242)
    with transaction.atomic():
        before = django_cache.get(key)
        for _ in range(3):
            cache.project_changed(4242)
            assert django_cache.get(key) != before  # this transaction reads its own change
            before = django_cache.get(key)
        pending = [
            entry
            for entry in connection.run_on_commit
            if getattr(entry[1], "args", None) == ((cache.PROJECT_LIST, key),)
        ]
        assert len(pending) == 1  # one move after the commit, however many changes


def test_a_write_outside_the_services_waits_for_the_timeout(client, team):
    """A write outside the services (here `update()`) is not seen until the entry
    expires: TIMEOUT is the net for those."""
    manager, *_ = team
    client.force_login(manager)
    client.get(PORTFOLIO)
    Deliverable.objects.update(status=DeliverableStatus.IN_PROGRESS)
    row = client.get(PORTFOLIO).context["dashboard"].projects[0]
    assert row.count_of("in_progress") == 0
    assert cache.TIMEOUT == 300


def test_only_plain_data_is_cached(team, settings):
    manager, _member, project, *_ = team
    scope = cache.Scope(projects=[project.pk])
    assert cache.cached("plain", manager, (), lambda: {"rows": [(1, "a")]}, scope) == {
        "rows": [(1, "a")]
    }
    with pytest.raises(TypeError, match="only plain data is cached, not Project"):
        cache.cached("rows", manager, (), lambda: {"rows": [project]}, scope)
    settings.CACHE_PLAIN_DATA_ONLY = False  # production: logged, served uncached
    hits = []
    for _ in range(2):
        cache.cached("rows", manager, (), lambda: hits.append(1) or [project], scope)
    assert hits == [1, 1]


def test_the_project_page_is_cached_as_plain_values(client, team):
    manager, _member, project, membership, _deliverable = team
    role_assign(membership=membership, role=role("data-scientist"), allocation_percent=0)
    other = project_create(name="Search", managers=[manager], actor=manager)
    ops = UserFactory(first_name="Olga", last_name="Ops")
    role_assign(
        membership=membership_add(project=other, user=ops, actor=manager),
        role=role("ml-engineer"),
        allocation_percent=50,
    )
    project.required_roles.add(role("ml-engineer"))  # a gap, with a suggestion
    cache.project_changed(project.pk)
    client.force_login(manager)
    url = _page(team)
    _cold, cold_queries = _queries(client, url)
    warm, warm_queries = _queries(client, url)
    # Session, user, the manager check's permissions: nothing about the project.
    assert warm_queries == 3 < cold_queries
    context = warm.context
    assert context["project"].name == "Churn"
    assert context["project"].manager_names == (person_name(manager),)
    rows = {row.role_slug: row for row in context["coverage"].rows}
    gap, held = rows["ml-engineer"], rows["data-scientist"]
    assert (gap.filled, gap.cells) == (False, (None,))
    assert [(s.name, s.project_name) for s in gap.suggestions] == [("Olga Ops", "Search")]
    assert held.cells == (0,)  # held, at 0%


def test_a_kept_scope_hands_the_computation_the_ids_it_read(team):
    manager, project = team[0], team[2]
    scope = cache.KeptScope(lambda: cache.Scope(projects=[project.pk]))
    assert scope.ids() is None  # nothing read yet: the computation reads visibility itself
    seen = cache.cached("kept", manager, (), lambda: scope.ids(), scope)
    assert seen == [project.pk]
    every = cache.KeptScope(lambda: cache.Scope(projects=[], every_project=True))
    assert cache.cached("kept-all", manager, (), lambda: every.ids(), every) is None
