"""Seed the readiness rubrics: a four-section ML readiness rubric (data, model,
infrastructure, monitoring; after the ML Test Score's sections) for the deployed
model and the serving/monitoring automation, and a production readiness review
for the data pipeline.

Texts are English source strings marked with gettext_noop so they are in the
translation catalogue; models show them through gettext (as the catalogue's seed,
deliverables 0002). Admins edit all of this in the admin afterwards.
"""

from decimal import Decimal

from django.db import migrations
from django.utils.translation import gettext_noop as _

DATA = _("Data")
MODEL = _("Model")
INFRASTRUCTURE = _("Infrastructure")
MONITORING = _("Monitoring")

ML_SECTIONS = [
    (DATA, [
        _("Expectations for each feature (ranges, types, missing values) are written down and checked against the data"),
        _("Every feature earns its place: its benefit is measured against what it costs to keep"),
        _("No feature uses data that is unavailable or different at prediction time"),
        _("Personal and sensitive data is identified, minimised and handled under the agreed policy"),
        _("Adding a new feature takes little time and follows a documented path"),
        _("The code that builds features has its own unit tests"),
    ]),
    (MODEL, [
        _("Model specifications are reviewed and kept under version control"),
        _("Offline metrics are shown to track the product metric that matters"),
        _("Hyperparameters were tuned rather than left at their defaults"),
        _("The model's staleness effect is known: how fast quality falls as it ages"),
        _("The model is compared against a simple baseline"),
        _("Quality is checked on the important slices of the data, not only overall"),
        _("The model was reviewed for fairness and unintended effects on groups of users"),
    ]),
    (INFRASTRUCTURE, [
        _("Training is reproducible: the same data and code give an equivalent model"),
        _("The model specification code has unit tests"),
        _("The whole pipeline, from raw data to serving, is exercised by an integration test"),
        _("A candidate model is validated before it can serve traffic"),
        _("A single example can be traced through training and serving to debug it"),
        _("A new model is rolled out gradually (canary) before taking all traffic"),
        _("A serving model can be rolled back to the previous one quickly and safely"),
    ]),
    (MONITORING, [
        _("Changes in upstream dependencies are announced to the team"),
        _("Data invariants hold in training and in serving inputs, and breaches alert"),
        _("Features are computed the same way in training and serving (skew is measured)"),
        _("The age of the serving model is watched, with an alert when it gets too old"),
        _("Numerical problems (NaN, infinities) in training or serving are detected"),
        _("Training speed, serving latency, throughput and memory are watched for regressions"),
        _("Prediction quality in production is measured and regressions alert someone"),
    ]),
]

PIPELINE_SECTIONS = [
    (_("Ownership"), [
        _("A named team owns the pipeline and is on call for it"),
        _("A runbook says how to diagnose and fix the usual failures"),
        _("Downstream users know whom to contact and where changes are announced"),
    ]),
    (_("Reliability"), [
        _("Runs are scheduled and need no manual steps"),
        _("A run that fails part-way can be retried without duplicating or losing data"),
        _("Capacity was checked against the expected data volume with headroom"),
    ]),
    (_("Data quality"), [
        _("Schema and value checks run on every batch before it is published"),
        _("Late, missing or unexpected input stops publication instead of passing silently"),
        _("The lineage of each output table is recorded"),
    ]),
    (MONITORING, [
        _("Freshness, volume and failures are monitored on a dashboard"),
        _("Alerts reach the on-call person, with thresholds agreed with the data's users"),
        _("Service levels for delivery time are written down and tracked"),
    ]),
    (_("Recovery and change"), [
        _("Outputs can be backfilled or recomputed for a past period"),
        _("Changes are reviewed and deployed through CI, with a way back"),
        _("Access to the data and its credentials follows least privilege and is reviewed"),
    ]),
]

RUBRICS = [
    ("deployed-model", _("ML readiness (ML Test Score)"), _(
        "Four sections after the ML Test Score (Breck et al., 2017): half a point for an "
        "item checked by hand, a point for an automated one. The score is the lowest "
        "section's."
    ), Decimal("2"), ML_SECTIONS),
    ("serving-automation", _("ML readiness (ML Test Score)"), _(
        "Four sections after the ML Test Score (Breck et al., 2017): half a point for an "
        "item checked by hand, a point for an automated one. The score is the lowest "
        "section's."
    ), Decimal("2"), ML_SECTIONS),
    ("data-pipeline", _("Production readiness review"), _(
        "What an SRE production readiness review asks of a data pipeline before others "
        "depend on it. Half a point for an item checked by hand, a point for an automated "
        "one; the score is the lowest section's."
    ), Decimal("1.5"), PIPELINE_SECTIONS),
]


def seed(apps, schema_editor):
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    Rubric = apps.get_model("readiness", "Rubric")
    RubricSection = apps.get_model("readiness", "RubricSection")
    RubricItem = apps.get_model("readiness", "RubricItem")
    for slug, name, description, required, sections in RUBRICS:
        deliverable_type = DeliverableType.objects.filter(slug=slug).first()
        if deliverable_type is None or Rubric.objects.filter(deliverable_type=deliverable_type).exists():
            continue
        rubric = Rubric.objects.create(
            deliverable_type=deliverable_type,
            name=name,
            description=description,
            required_score=required,
        )
        for position, (section_name, items) in enumerate(sections):
            section = RubricSection.objects.create(rubric=rubric, name=section_name, position=position)
            RubricItem.objects.bulk_create(
                RubricItem(section=section, text=text, position=n) for n, text in enumerate(items)
            )


def unseed(apps, schema_editor):
    Rubric = apps.get_model("readiness", "Rubric")
    Rubric.objects.filter(
        deliverable_type__slug__in=[slug for slug, *_rest in RUBRICS],
        sections__items__marks__isnull=True,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("readiness", "0001_initial"),
        ("deliverables", "0032_rubric_event_kinds"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
