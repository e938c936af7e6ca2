"""How a deliverable is named: its type in the reader's language, then the title
someone typed, if any (Deliverable.label); never a title generated in the planner's
language."""

from __future__ import annotations

import csv
import importlib
import io
from datetime import date

import pytest
from django.apps import apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from deliverables.models import Deliverable, DeliverableEvent, EventKind
from deliverables.selectors import plan_proposal
from deliverables.services import deliverable_create, deliverable_update
from roles.services import membership_add, project_create, role_assign
from tests.factories import UserFactory, deliverable_type, manager_user, role

pytestmark = pytest.mark.django_db

JA = {"accept-language": "ja"}
DEPLOYED_MODEL_JA = "デプロイ済みモデル"


def _planned_project(client):
    """A project planned through the page by an English-speaking manager."""
    manager = manager_user()
    engineer = UserFactory(username="eng")
    project = project_create(name="Churn", managers=[manager], start_date=date(2020, 1, 1))
    role_assign(membership=membership_add(project=project, user=engineer), role=role("ml-engineer"))
    membership_add(project=project, user=manager)
    proposal = plan_proposal(project=project)
    client.force_login(manager)
    project.refresh_from_db()
    data = {"version": project.version, "plan-TOTAL_FORMS": 1, "plan-INITIAL_FORMS": 1}
    (row,) = proposal
    data.update(
        {
            "plan-0-include": "on",
            "plan-0-type": row["type"],
            "plan-0-title": row["title"],
            "plan-0-owner": row["owner"],
            "plan-0-due_date": timezone.localdate().isoformat(),
        }
    )
    response = client.post(
        reverse("deliverables:plan", args=[project.pk]), data, headers={"accept-language": "en"}
    )
    assert response.status_code == 302
    return manager, engineer, project, Deliverable.objects.get(project=project)


def test_planning_stores_no_generated_title(client):
    *_people, planned = _planned_project(client)
    assert planned.title == ""
    assert planned.type.slug == "deployed-model"
    with translation.override("en"):
        assert planned.label == "Deployed model"
        assert str(planned) == "Deployed model"
    with translation.override("ja"):
        assert planned.label == DEPLOYED_MODEL_JA


def test_a_japanese_reader_sees_the_japanese_type_name_of_a_planned_deliverable(client):
    manager, engineer, project, planned = _planned_project(client)
    detail = client.get(reverse("deliverables:detail", args=[planned.pk]), headers=JA)
    page = detail.content.decode()
    assert f"<title>{DEPLOYED_MODEL_JA}" in page  # the page title
    assert f'<h1 class="h3 mb-1">{DEPLOYED_MODEL_JA}</h1>' in page
    assert 'aria-current="page">' + DEPLOYED_MODEL_JA in page  # the breadcrumb
    for url in [
        reverse("deliverables:list"),
        reverse("roles:project_detail", args=[project.pk]),
        reverse("roles:project_activity", args=[project.pk]),
        reverse("deliverables:portfolio_activity"),  # the portfolio's activity
        reverse("deliverables:edit", args=[planned.pk]),
    ]:
        page = client.get(url, headers=JA).content.decode()
        assert DEPLOYED_MODEL_JA in page, url
        assert "Deployed model" not in page, url
    # The owner's own pages: my work and home (its rows come from hand-written SQL).
    client.force_login(engineer)
    deliverable_update(
        deliverable=planned,
        actor=manager,
        version=None,
        title="",
        type=planned.type,
        owner=engineer,
        due_date=date(2020, 1, 1),
    )  # overdue now, and a change by someone else: on home twice
    for url in [reverse("deliverables:my_work"), reverse("home")]:
        page = client.get(url, headers=JA).content.decode()
        assert DEPLOYED_MODEL_JA in page, url
        assert "Deployed model" not in page, url
    rows = list(csv.reader(io.StringIO(_csv(client, headers=JA))))
    assert rows[1][rows[0].index("deliverable")] == DEPLOYED_MODEL_JA


def _csv(client, **kwargs) -> str:
    response = client.get(reverse("deliverables:export"), **kwargs)
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_an_own_title_is_kept_and_named_after_the_type(client):
    manager = manager_user()
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("deployed-model"), title="Churn v2", actor=manager
    )
    deliverable.refresh_from_db()
    assert deliverable.title == "Churn v2"
    with translation.override("en"):
        assert deliverable.label == "Deployed model: Churn v2"
    with translation.override("ja"):
        assert deliverable.label.startswith(DEPLOYED_MODEL_JA)
        assert deliverable.label.endswith("Churn v2")
    client.force_login(manager)
    page = client.get(reverse("deliverables:detail", args=[deliverable.pk])).content.decode()
    assert '<h1 class="h3 mb-1">Deployed model: Churn v2</h1>' in page
    # The list names it by its own title: the type is already beside it.
    rows = list(csv.reader(io.StringIO(_csv(client))))
    assert rows[1][rows[0].index("deliverable")] == "Churn v2"
    assert rows[1][rows[0].index("type")] == "Deployed model"


def test_the_edit_form_accepts_an_empty_title_and_records_the_change(client):
    manager = manager_user()
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=manager)
    deliverable = deliverable_create(
        project=project, type=deliverable_type("prd"), title="Old name", actor=manager
    )
    client.force_login(manager)
    form = client.get(reverse("deliverables:edit", args=[deliverable.pk])).content.decode()
    assert "Optional" in form  # the help text says the title may stay empty
    response = client.post(
        reverse("deliverables:edit", args=[deliverable.pk]),
        {"version": deliverable.version, "title": "", "type": deliverable.type_id},
    )
    assert response.status_code == 302
    deliverable.refresh_from_db()
    assert deliverable.title == ""
    event = DeliverableEvent.objects.get(deliverable=deliverable, kind=EventKind.TITLE)
    assert event.payload == {"before": {"text": "Old name"}}
    assert (event.display_before, event.display_after) == ("Old name", "")


def test_the_digest_names_deliverables_by_type_in_the_readers_language(
    django_capture_on_commit_callbacks,
):
    from datetime import UTC, datetime

    from deliverables import reminders
    from deliverables.models import ReminderPreference

    manager = manager_user()
    owner = UserFactory(email="owner@example.com")
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=owner)
    ReminderPreference.objects.create(
        user=owner, hour=0, time_zone="UTC", working_days="0,1,2,3,4,5,6", language="ja"
    )
    deliverable_create(
        project=project,
        type=deliverable_type("deployed-model"),
        owner=owner,
        due_date=date(2026, 11, 1),
    )
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminder_sweep(
            now=now, send=lambda pk: reminders.digest_send(digest_id=pk, now=now)
        )
    (message,) = [m for m in mail.outbox if "owner@example.com" in m.to]
    assert DEPLOYED_MODEL_JA in message.body
    assert DEPLOYED_MODEL_JA in message.alternatives[0][0]


# --- the data migration -------------------------------------------------------------------


def test_the_migration_blanks_generated_titles_and_keeps_typed_ones():
    migration = importlib.import_module("deliverables.migrations.0014_deliverable_title_optional")
    manager = manager_user()
    project = project_create(name="Churn", managers=[manager])
    other = project_create(name="Search", managers=[manager])
    model, prd = deliverable_type("deployed-model"), deliverable_type("prd")
    with translation.override("ja"):
        model_ja = model.display_name
    assert model_ja == DEPLOYED_MODEL_JA

    def make(title, type_=model, on=project):
        return Deliverable.objects.create(project=on, type=type_, title=title).pk

    blanked = {
        make("Deployed model: Churn"),  # the plan's proposal, in English
        make(f"{DEPLOYED_MODEL_JA}: Churn"),  # ... and for a Japanese planner
        make("Deployed model: Churn", type_=prd),  # planned, then its type changed
        make("Product requirements document (PRD): Search", type_=prd, on=other),  # demo data
    }
    kept = {
        make("Churn v2"): "Churn v2",
        make("Deployed model: Search"): "Deployed model: Search",  # another project's name
        make("Deployed model: Churn (retrained)"): "Deployed model: Churn (retrained)",
        make("Deployed model"): "Deployed model",
        make(""): "",
    }
    migration.blank_generated_titles(apps, None)
    titles = dict(Deliverable.objects.values_list("pk", "title"))
    assert {pk for pk in blanked if titles[pk] == ""} == blanked
    assert {pk: titles[pk] for pk in kept} == kept


def test_searching_finds_deliverables_by_their_type_name_in_either_language(client):
    manager = manager_user()
    project = project_create(name="Churn", managers=[manager])
    membership_add(project=project, user=manager)
    model = deliverable_create(project=project, type=deliverable_type("deployed-model"))
    typed = deliverable_create(project=project, type=deliverable_type("prd"), title="Model card")
    deliverable_create(project=project, type=deliverable_type("prd"))
    client.force_login(manager)

    def found(query: str, **kwargs) -> set[str]:
        rows = csv.DictReader(io.StringIO(_csv(client, data={"q": query}, **kwargs)))
        return {row["id"] for row in rows}

    assert found("deployed") == {str(model.pk)}
    assert found("model") == {str(model.pk), str(typed.pk)}  # type or own title
    assert found("デプロイ", headers=JA) == {str(model.pk)}


def test_a_deliverable_without_a_type_yet_is_named_by_its_title():
    assert Deliverable(title="Draft").label == "Draft"
    assert str(Deliverable()) == ""
