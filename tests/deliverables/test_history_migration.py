"""History written before it kept structured values reads exactly as it did.

The rows are written with the old schema (migrations rolled back to before
deliverables 0025 / roles 0009) through the historical models, then migrated
forward; each one's wording, in English and Japanese, is compared with what the
old code showed for it (the expected strings below were taken from that code).
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from deliverables.models import DeliverableEvent
from roles.models import TeamChange

OLD = [("deliverables", "0023_remove_open_work"), ("roles", "0008_team_change_changes")]

# (kind, before, after) as the old code stored them.
OLD_EVENTS = [
    ("created", "", ""),
    ("status", "in_progress", "blocked: Waiting for data access."),
    ("status", "blocked", "in_progress"),
    ("status", "in_review", "cancelled: Merged into the **pricing** study: see there."),
    ("status", "legacy", "done"),
    ("done_override", "", "Signed off by the lead."),
    ("owner", "Aiko Tanaka", "former-member-12"),
    ("owner", "", "Ben Ito"),
    ("due_date", "2026-09-27", "2026-12-05"),
    ("due_date", "soon", ""),
    ("type", "Design document", "Product requirements document (PRD)"),
    ("type", "Typed by an admin", ""),
    ("title", "Old name", ""),
    ("checklist", "", "3/29"),
    ("checklist", "", "question-added: Who runs it?"),
    ("checklist", "question-removed: Who runs it?", ""),
    ("checklist", "", "ticked two items"),
    ("link_added", "", "https://docs.example.com/r"),
    ("link_removed", "https://docs.example.com/r", ""),
    ("comment", "", "Looks **good**: ship it"),
]
# Written before the handbook's phrases became codes (deliverables 0012 converts them).
OLD_PHRASES = [
    ("checklist", "", "added the question: Who runs it?"),
    ("checklist", "質問を削除：Who runs it?", ""),
]
# (action, detail, changes) as the old code stored them.
OLD_TEAM_CHANGES = [
    ("member_added", "", {}),
    ("role_assigned", "50%", {}),
    ("assignment_changed", "50% → 70%", {}),
    ("role_assigned", "half time", {}),
    (
        "project_updated",
        "",
        {
            "status": ["planning", "active"],
            "target_date": ["2026-09-01", "2026-12-01"],
            "managers": [["Aiko Tanaka"], ["Ben Ito", "former-member-12"]],
            "business_problem": None,
        },
    ),
]

# What the old code showed for each row of OLD_EVENTS: "before | after", English, Japanese.
OLD_WORDING = [
    (" | ", " | "),
    (
        "In progress | Blocked: Waiting for data access.",
        "進行中 | ブロック中: Waiting for data access.",
    ),
    ("Blocked | In progress", "ブロック中 | 進行中"),
    (
        "In review | Cancelled: Merged into the **pricing** study: see there.",
        "レビュー中 | 中止: Merged into the **pricing** study: see there.",
    ),
    ("legacy | Done", "legacy | 完了"),
    (" | Signed off by the lead.", " | Signed off by the lead."),
    ("Aiko Tanaka | Former member", "Aiko Tanaka | 元メンバー"),
    (" | Ben Ito", " | Ben Ito"),
    ("Sep 27, 2026 | Dec 5, 2026", "2026年9月27日 | 2026年12月5日"),
    ("soon | ", "soon | "),
    (
        "Design document | Product requirements document (PRD)",
        "設計ドキュメント | PRD（プロダクト要求仕様書）",
    ),
    ("Typed by an admin | ", "Typed by an admin | "),
    ("Old name | ", "Old name | "),
    (" | 3/29", " | 3/29"),
    (" | added the question: Who runs it?", " | 質問を追加：Who runs it?"),
    ("removed the question: Who runs it? | ", "質問を削除：Who runs it? | "),
    (" | ticked two items", " | ticked two items"),
    (" | https://docs.example.com/r", " | https://docs.example.com/r"),
    ("https://docs.example.com/r | ", "https://docs.example.com/r | "),
    (" | Looks **good**: ship it", " | Looks **good**: ship it"),
]
OLD_PHRASE_WORDING = [
    (" | added the question: Who runs it?", " | 質問を追加：Who runs it?"),
    ("removed the question: Who runs it? | ", "質問を削除：Who runs it? | "),
]
# What the old code showed for each row of OLD_TEAM_CHANGES: its detail and change lines.
OLD_TEAM_WORDING = {
    "en": [
        ("", []),
        ("50%", []),
        ("50% → 70%", []),
        ("half time", []),
        (
            "",
            [
                ("status", "Planning", "Active"),
                ("target date", "Sep 1, 2026", "Dec 1, 2026"),
                ("managers", "Aiko Tanaka", "Ben Ito, former-member-12"),
                ("business problem", "", ""),
            ],
        ),
    ],
    "ja": [
        ("", []),
        ("50%", []),
        ("50% → 70%", []),
        ("half time", []),
        (
            "",
            [
                ("ステータス", "計画中", "アクティブ"),
                ("目標日", "2026年9月1日", "2026年12月1日"),
                ("マネージャー", "Aiko Tanaka", "Ben Ito, former-member-12"),
                ("ビジネス課題", "", ""),
            ],
        ),
    ],
}


def _wording(event: DeliverableEvent) -> str:
    return f"{event.display_before} | {event.display_after}"


def _team_wording(change: TeamChange) -> tuple:
    # Sorted: PostgreSQL's jsonb keeps an edit's fields in its own order, then as now.
    return (change.detail, sorted(tuple(map(str, line)) for line in change.change_lines()))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_history_written_by_the_old_code_reads_the_same_after_migrating(work):
    deliverable, project = work.deliverable, work.world.project
    actor = work.world.people["manager"]
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    try:
        old = executor.loader.project_state(OLD).apps
        Event = old.get_model("deliverables", "DeliverableEvent")
        Change = old.get_model("roles", "TeamChange")
        common = {"deliverable_id": deliverable.pk, "project_id": project.pk, "actor_id": actor.pk}
        events = [
            Event.objects.create(**common, kind=kind, before=before, after=after).pk
            for kind, before, after in OLD_EVENTS
        ]
        phrases = [
            Event.objects.create(**common, kind=kind, before=before, after=after).pk
            for kind, before, after in OLD_PHRASES
        ]
        importlib.import_module("deliverables.migrations.0012_handbook_question_events").to_codes(
            old, None
        )
        changes = [
            Change.objects.create(
                project_id=project.pk,
                actor_id=actor.pk,
                action=action,
                person_id=actor.pk,
                detail=detail,
                changes=stored,
            ).pk
            for action, detail, stored in OLD_TEAM_CHANGES
        ]
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = DeliverableEvent.objects.in_bulk(events + phrases)
    team = TeamChange.objects.in_bulk(changes)
    for index, language in enumerate(("en", "ja")):
        with translation.override(language):
            assert [_wording(migrated[pk]) for pk in events] == [
                wording[index] for wording in OLD_WORDING
            ]
            assert [_wording(migrated[pk]) for pk in phrases] == [
                wording[index] for wording in OLD_PHRASE_WORDING
            ]
            assert [_team_wording(team[pk]) for pk in changes] == [
                (detail, sorted(lines)) for detail, lines in OLD_TEAM_WORDING[language]
            ]
    # Values are kept structured, not as text to parse.
    assert migrated[events[1]].payload == {
        "before": {"status": "in_progress"},
        "after": {"status": "blocked", "reason": "Waiting for data access."},
    }
    assert migrated[phrases[0]].payload == {
        "after": {"question": "Who runs it?", "change": "added"}
    }
    assert team[changes[2]].payload == {"allocation": [50, 70]}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migrating_back_writes_the_old_texts_again(work):
    deliverable, project = work.deliverable, work.world.project
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    try:
        old = executor.loader.project_state(OLD).apps
        Event = old.get_model("deliverables", "DeliverableEvent")
        Change = old.get_model("roles", "TeamChange")
        common = {"deliverable_id": deliverable.pk, "project_id": project.pk}
        for kind, before, after in OLD_EVENTS:
            Event.objects.create(**common, kind=kind, before=before, after=after)
        for action, detail, stored in OLD_TEAM_CHANGES:
            Change.objects.create(
                project_id=project.pk, action=action, detail=detail, changes=stored
            )
        texts = set(Event.objects.values_list("kind", "before", "after"))
        columns = list(Change.objects.order_by("pk").values_list("action", "detail", "changes"))
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        executor.loader.build_graph()
        executor.migrate(OLD)
        assert set(Event.objects.values_list("kind", "before", "after")) == texts
        assert list(Change.objects.order_by("pk").values_list("action", "detail", "changes")) == (
            columns
        )
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
