"""Store the score of every deliverable marked before scores were kept
(ReadinessScore, 0004), so that lists read them from the start.

The rule is the app's own (`points_expression`, `section_scores`: an expression
and a plain function, neither reads a model class); the rows are read here
through the historical models."""

from collections import defaultdict

from django.db import migrations
from django.db.models import Count, Sum


def score_existing(apps, schema_editor):
    from deliverables.readiness.models import points_expression, section_scores

    RubricItem = apps.get_model("readiness", "RubricItem")
    RubricMark = apps.get_model("readiness", "RubricMark")
    ReadinessScore = apps.get_model("readiness", "ReadinessScore")
    Deliverable = apps.get_model("deliverables", "Deliverable")
    sections, required = defaultdict(list), {}
    structure = (
        RubricItem.objects.order_by("section__position", "section_id")
        .values_list(
            "section__rubric__deliverable_type_id",
            "section__rubric__required_score",
            "section_id",
            "section__name",
        )
        .annotate(n=Count("pk"))
    )
    for type_id, needed, section_id, name, count in structure:
        sections[type_id].append((section_id, name, count))
        required[type_id] = needed
    points = defaultdict(dict)
    sums = (
        RubricMark.objects.order_by()
        .values_list("deliverable_id", "item__section_id")
        .annotate(points=Sum(points_expression()))
    )
    for deliverable_id, section_id, total in sums:
        points[deliverable_id][section_id] = total
    types = dict(Deliverable.objects.filter(pk__in=list(points)).values_list("pk", "type_id"))
    rows = []
    for pk, type_id in types.items():
        if type_id not in sections:
            continue
        score = section_scores(sections[type_id], points[pk], required[type_id])
        rows.append(ReadinessScore(deliverable_id=pk, overall=score.overall, ready=score.ready))
    ReadinessScore.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("readiness", "0004_readiness_score")]

    operations = [migrations.RunPython(score_existing, migrations.RunPython.noop)]
