"""A review's history written as texts (before reviews 0002) reads the same after
it is kept as values.

The rows are written with the old schema through the historical models, with the
texts exactly as the old code composed them (in English or Japanese, whichever
the writer used), then migrated forward. Each is read back in English and in
Japanese: in the language it was written in it reads exactly as before (one
deliberate exception, noted at OUTCOME_JA); in the other language its labels are
now the reader's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from deliverables.reviews.models import ReviewEvent

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OLD = [("reviews", "0001_initial")]

RATINGS_EN = (
    "quality of code: {}\nquality of documentation: {}\ncollaboration: {}\n"
    "meeting the agreed expectations: {}"
)
RATINGS_JA = "コードの品質: {}\nドキュメントの品質: {}\n協働: {}\n合意した期待事項の達成度: {}"
OUTCOME_EN = "Project outcome (context only)"
# The old code wrote this label in English whatever the writer's language (the
# string never reached the catalogue); it now reads in Japanese to a Japanese reader.
OUTCOME_JA = "プロジェクトの結果（参考情報のみ）"

# (kind, before, after) as the old code stored them; the comment says who wrote it.
OLD_EVENTS = [
    ("expectations_written", "", ""),
    # English: linked work by its label then, with the type's English name.
    (
        "expectations_changed",
        "Own the churn report.\n\nLinked deliverables: "
        "Analysis report with visualisations: Churn drivers report; Design document",
        "Own the churn report and its model card.",
    ),
    # Japanese: the line's label and the label's full-width colon in Japanese.
    (
        "expectations_changed",
        "チャーンレポートを担当する。\n\n"
        "関連する成果物: 可視化を含む分析レポート：Churn drivers report",
        "書き直した期待事項",
    ),
    ("expectations_acknowledged", "", ""),
    # English: a shared evaluation with a two-line comment and the outcome.
    (
        "evaluation_shared",
        "",
        RATINGS_EN.format(4, "-", 3, 5)
        + "\n\nCareful work.\nTwo lines.\n\n"
        + f"{OUTCOME_EN}: Missed the target.",
    ),
    # Japanese: changed, with the outcome label in English as the old code wrote it.
    (
        "evaluation_changed",
        RATINGS_JA.format(4, 4, 3, 5) + f"\n\n丁寧な仕事。\n\n{OUTCOME_EN}: 目標未達。",
        RATINGS_JA.format(2, 2, 2, 2) + "\n\n厳しめに見直した。",
    ),
    # English: a draft with no comment, no ratings and only the outcome.
    (
        "evaluation_saved",
        "",
        RATINGS_EN.format("-", "-", "-", "-") + f"\n\n\n\n{OUTCOME_EN}: Context.",
    ),
    # Not as the old code wrote them (a rating of 0, unsorted links, a bare text):
    # kept as written.
    ("evaluation_saved", "", RATINGS_EN.format(0, 1, 1, 1) + "\n\nZero?"),
    ("expectations_changed", "x\n\nLinked deliverables: b; a", "y"),
    ("evaluation_changed", "Written by hand in the shell", "Also by hand"),
]

# What each row reads as after migrating: (before, after) in English, then Japanese.
WORDING = [
    (("", ""), ("", "")),
    (
        (
            "Own the churn report.\n\nLinked deliverables: "
            "Analysis report with visualisations: Churn drivers report; Design document",
            "Own the churn report and its model card.",
        ),
        (
            # The linked work keeps the name it was written with.
            "Own the churn report.\n\n関連する成果物: "
            "Analysis report with visualisations: Churn drivers report; Design document",
            "Own the churn report and its model card.",
        ),
    ),
    (
        (
            "チャーンレポートを担当する。\n\nLinked deliverables: "
            "可視化を含む分析レポート：Churn drivers report",
            "書き直した期待事項",
        ),
        (
            "チャーンレポートを担当する。\n\n"
            "関連する成果物: 可視化を含む分析レポート：Churn drivers report",
            "書き直した期待事項",
        ),
    ),
    (("", ""), ("", "")),
    (
        (
            "",
            RATINGS_EN.format(4, "-", 3, 5)
            + f"\n\nCareful work.\nTwo lines.\n\n{OUTCOME_EN}: Missed the target.",
        ),
        (
            "",
            RATINGS_JA.format(4, "-", 3, 5)
            + f"\n\nCareful work.\nTwo lines.\n\n{OUTCOME_JA}: Missed the target.",
        ),
    ),
    (
        (
            RATINGS_EN.format(4, 4, 3, 5) + f"\n\n丁寧な仕事。\n\n{OUTCOME_EN}: 目標未達。",
            RATINGS_EN.format(2, 2, 2, 2) + "\n\n厳しめに見直した。",
        ),
        (
            RATINGS_JA.format(4, 4, 3, 5) + f"\n\n丁寧な仕事。\n\n{OUTCOME_JA}: 目標未達。",
            RATINGS_JA.format(2, 2, 2, 2) + "\n\n厳しめに見直した。",
        ),
    ),
    (
        ("", RATINGS_EN.format("-", "-", "-", "-") + f"\n\n\n\n{OUTCOME_EN}: Context."),
        ("", RATINGS_JA.format("-", "-", "-", "-") + f"\n\n\n\n{OUTCOME_JA}: Context."),
    ),
    (
        ("", RATINGS_EN.format(0, 1, 1, 1) + "\n\nZero?"),
        ("", RATINGS_EN.format(0, 1, 1, 1) + "\n\nZero?"),
    ),
    (("x\n\nLinked deliverables: b; a", "y"), ("x\n\nLinked deliverables: b; a", "y")),
    (
        ("Written by hand in the shell", "Also by hand"),
        ("Written by hand in the shell", "Also by hand"),
    ),
]


def _old_review(apps) -> int:
    User = apps.get_model("auth", "User")
    ReviewCycle = apps.get_model("reviews", "ReviewCycle")
    Review = apps.get_model("reviews", "Review")
    manager = User.objects.create(username="mari-history", email="mari@example.com")
    person = User.objects.create(username="aiko-history", email="aiko@example.com")
    cycle = ReviewCycle.objects.create(
        name="First half", start_date=date(2026, 1, 1), end_date=date(2026, 6, 30)
    )
    review = Review.objects.create(
        cycle=cycle,
        person=person,
        manager=manager,
        expectations="Own the churn report.",
        expectations_set_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    return review.pk


def _to_latest(executor: MigrationExecutor) -> None:
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_review_history_written_as_texts_reads_the_same_after_migrating():
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    try:
        old = executor.loader.project_state(OLD).apps
        Event = old.get_model("reviews", "ReviewEvent")
        review = _old_review(old)
        events = [
            Event.objects.create(review_id=review, kind=kind, before=before, after=after).pk
            for kind, before, after in OLD_EVENTS
        ]
    finally:
        _to_latest(executor)

    migrated = ReviewEvent.objects.in_bulk(events)
    for index, language in enumerate(("en", "ja")):
        with translation.override(language):
            assert [(migrated[pk].display_before, migrated[pk].display_after) for pk in events] == [
                wording[index] for wording in WORDING
            ]
    # Kept as values, not as text to parse again.
    assert migrated[events[1]].payload["before"] == {
        "text": "Own the churn report.",
        "linked": [
            {"text": "Analysis report with visualisations: Churn drivers report"},
            {"text": "Design document"},
        ],
    }
    assert migrated[events[4]].payload == {
        "after": {
            "ratings": {
                "quality_code": 4,
                "quality_documentation": None,
                "quality_collaboration": 3,
                "expectations_met": 5,
            },
            "comment": "Careful work.\nTwo lines.",
            "outcome": "Missed the target.",
        }
    }
    assert migrated[events[5]].payload["before"]["written_in"] == "ja"
    assert migrated[events[7]].payload["after"] == {"text": OLD_EVENTS[7][2]}
    assert migrated[events[0]].payload == {}


def test_migrating_back_writes_the_old_texts_again():
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    try:
        old = executor.loader.project_state(OLD).apps
        Event = old.get_model("reviews", "ReviewEvent")
        review = _old_review(old)
        for kind, before, after in OLD_EVENTS:
            Event.objects.create(review_id=review, kind=kind, before=before, after=after)
        texts = sorted(Event.objects.values_list("kind", "before", "after"))
        _to_latest(executor)
        executor.loader.build_graph()
        executor.migrate(OLD)
        assert sorted(Event.objects.values_list("kind", "before", "after")) == texts
    finally:
        _to_latest(executor)
