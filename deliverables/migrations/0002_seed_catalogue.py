"""Seed the six ML roles and the deliverables each typically owes.

Texts are English source strings marked with gettext_noop so they are in the
translation catalogue; models show them through gettext. Admins may edit or add
to all of this afterwards.
"""

from django.db import migrations
from django.utils.translation import gettext_noop as _

TICK, TEXT, LINK = "tick", "text", "link"

ROLES = [
    {
        "slug": "ml-product-manager",
        "name": _("ML product manager"),
        "summary": _("Turns a business problem into an ML product and decides what is built first."),
        "knowledge_and_skills": _(
            "Knows what machine learning can and cannot do, and how ML systems are developed. "
            "Works with the ML team, end users and stakeholders to match the business problem "
            "with an ML solution. Owns the product vision, defines use cases and requirements, "
            "and plans and prioritises the work."
        ),
    },
    {
        "slug": "engineering-manager",
        "name": _("Engineering manager"),
        "summary": _("Sets the team's priorities, keeps the solution tied to the business, and looks after people."),
        "knowledge_and_skills": _(
            "Sets, explains and delivers the team's priorities in service of business goals. "
            "Keeps the ML solution aligned with the business problem. Agrees clear expectations "
            "with each person early, runs performance reviews and supports career growth."
        ),
    },
    {
        "slug": "data-scientist",
        "name": _("Data scientist"),
        "summary": _("Finds value in data with statistics and turns it into answers the business can use."),
        "knowledge_and_skills": _(
            "Applies quantitative and statistical analysis to draw insight and value out of data. "
            "Finds and tests candidate features, builds model prototypes and explains what "
            "models have learned."
        ),
    },
    {
        "slug": "ml-engineer",
        "name": _("ML engineer"),
        "summary": _("Designs, builds and runs ML models in production."),
        "knowledge_and_skills": _(
            "A strong software engineer with deep knowledge of machine learning. Designs and "
            "builds models, takes them to production and keeps them healthy there."
        ),
    },
    {
        "slug": "data-engineer",
        "name": _("Data engineer"),
        "summary": _("Owns the data across the ML lifecycle, from raw input to training and serving formats."),
        "knowledge_and_skills": _(
            "Builds pipelines that store, aggregate and process large volumes of data, and the "
            "infrastructure that turns raw data into the formats used for training and serving. "
            "Answers for the data through the whole ML lifecycle."
        ),
    },
    {
        "slug": "devops-engineer",
        "name": _("DevOps engineer"),
        "summary": _("Builds and runs the infrastructure that serves models, and watches over it."),
        "knowledge_and_skills": _(
            "Develops, deploys, scales and monitors the infrastructure that serves ML models to "
            "their users."
        ),
    },
]

# (role slug, type) — items are (area, text, answer kind, required).
TYPES = [
    ("ml-product-manager", {
        "slug": "prd",
        "name": _("Product requirements document (PRD)"),
        "description": _(
            "Says what the ML product is for: the vision, its users and their use cases, the "
            "requirements, how success is measured, and the plan and priorities."
        ),
        "offset": 14,
        "items": [
            (_("Vision"), _("The product vision is stated in a few sentences"), TICK, True),
            (_("Users"), _("Target users and their use cases are described"), TICK, True),
            (_("Requirements"), _("Functional and non-functional requirements are listed"), TICK, True),
            (_("Requirements"), _("What the model will not do, and the fallback when it is wrong"), TEXT, False),
            (_("Success"), _("Success metric and the quality target the model must reach"), TEXT, True),
            (_("Plan"), _("Milestones and priorities are agreed with the engineering manager"), TICK, True),
            (_("Plan"), _("Reviewed with stakeholders and end users"), TICK, False),
            (_("Document"), _("Link to the PRD"), LINK, True),
        ],
    }),
    ("engineering-manager", {
        "slug": "design-document",
        "name": _("Design document"),
        "description": _(
            "Explains how the ML solution will be built and why, including the options that "
            "were weighed and set aside."
        ),
        "offset": 30,
        "items": [
            (_("Goals"), _("Problem and goals restated from the PRD"), TICK, True),
            (_("Architecture"), _("Architecture with the data flow and the serving path"), TICK, True),
            (_("Architecture"), _("Alternatives considered and why they were rejected"), TEXT, False),
            (_("Risks"), _("Risks, dependencies and upstream systems are listed"), TICK, True),
            (_("Review"), _("Reviewed by the ML, data and DevOps engineers"), TICK, True),
            (_("Document"), _("Link to the design document"), LINK, True),
        ],
    }),
    ("engineering-manager", {
        "slug": "project-plan",
        "name": _("Project plan"),
        "description": _(
            "Milestones, owners and dates for every deliverable, with the risks that could move them."
        ),
        "offset": 21,
        "items": [
            (_("Plan"), _("Milestones have dates"), TICK, True),
            (_("Team"), _("Every required role has someone holding it"), TICK, True),
            (_("Plan"), _("Each deliverable has an owner and a due date"), TICK, True),
            (_("Risks"), _("Risks and how we will respond to them"), TEXT, False),
            (_("Review"), _("Shared with the team and the stakeholders"), TICK, True),
            (_("Document"), _("Link to the plan"), LINK, True),
        ],
    }),
    ("engineering-manager", {
        "slug": "performance-evaluation",
        "name": _("Performance evaluation"),
        "description": _(
            "Judges each person against expectations agreed early in the cycle, on the quality "
            "of their work rather than on whether the project succeeded."
        ),
        "offset": 180,
        "items": [
            (_("Expectations"), _("Expectations were written down and shared at the start of the cycle"), TICK, True),
            (_("Quality"), _("Quality of code and documentation was assessed"), TICK, True),
            (_("Quality"), _("Collaboration was assessed"), TICK, True),
            (_("Fairness"), _("The rating does not depend on the project's outcome"), TICK, True),
            (_("Review"), _("Discussed with the person"), TICK, True),
        ],
    }),
    ("data-scientist", {
        "slug": "analysis-report",
        "name": _("Analysis report with visualisations"),
        "description": _(
            "Answers business questions through statistical analysis of the data, with charts "
            "that make each finding plain."
        ),
        "offset": 45,
        "items": [
            (_("Questions"), _("The business questions the analysis answers are stated"), TICK, True),
            (_("Data"), _("Data sources and their time ranges are documented"), TICK, True),
            (_("Data"), _("Data was explored and validated before analysis"), TICK, True),
            (_("Features"), _("Candidate features were identified and tested"), TICK, False),
            (_("Method"), _("Statistical methods and their assumptions are explained"), TEXT, True),
            (_("Findings"), _("Every finding is backed by a visualisation"), TICK, True),
            (_("Findings"), _("Conclusions and recommended next steps"), TEXT, True),
            (_("Document"), _("Link to the report"), LINK, True),
        ],
    }),
    ("ml-engineer", {
        "slug": "deployed-model",
        "name": _("Deployed model"),
        "description": _(
            "A model running in production whose prediction quality is good enough to meet the "
            "business goal."
        ),
        "offset": 90,
        "items": [
            (_("Model"), _("The quality metric and target agreed in the PRD are met (give the figures)"), TEXT, True),
            (_("Model"), _("Compared offline against a simple baseline"), TEXT, True),
            (_("Model"), _("Quality checked on the slices of data that matter most"), TICK, False),
            (_("Model"), _("Training is reproducible from versioned code, data and configuration"), TICK, True),
            (_("Data"), _("Input features have schema and range checks"), TICK, True),
            (_("Infrastructure"), _("Model version registered with a reference to its training data"), LINK, True),
            (_("Infrastructure"), _("Rolling back to the previous model has been tested"), TICK, True),
            (_("Infrastructure"), _("Released to a canary or shadow before full traffic"), TICK, False),
            (_("Monitoring"), _("Prediction quality is monitored in production"), TICK, True),
            (_("Monitoring"), _("Skew between training and serving data is checked"), TICK, False),
        ],
    }),
    ("data-engineer", {
        "slug": "data-pipeline",
        "name": _("Production data pipeline with monitoring and alerting"),
        "description": _(
            "A pipeline that reliably delivers training and serving data, watched by monitoring "
            "that raises an alert when something breaks."
        ),
        "offset": 60,
        "items": [
            (_("Data"), _("Anonymisation of the data set has been verified"), TICK, True),
            (_("Data"), _("Metadata and provenance are recorded for every data set"), TICK, True),
            (_("Data"), _("Schema checks reject malformed input"), TICK, True),
            (_("Data"), _("Distributions of feature values are tracked over time"), TICK, False),
            (_("Infrastructure"), _("The pipeline runs on a schedule with no manual steps"), TICK, True),
            (_("Infrastructure"), _("How to backfill and re-run is documented"), TEXT, False),
            (_("Monitoring"), _("Monitoring is in place for freshness, volume and failures"), TICK, True),
            (_("Monitoring"), _("Alerting is in place and reaches a named owner"), TICK, True),
            (_("Document"), _("Link to the runbook"), LINK, True),
        ],
    }),
    ("devops-engineer", {
        "slug": "serving-automation",
        "name": _("Serving, monitoring, testing and alerting automation"),
        "description": _(
            "Automated processes that deploy, serve, test and watch the model, and alert people "
            "when it misbehaves."
        ),
        "offset": 75,
        "items": [
            (_("Infrastructure"), _("Model deployment is automated end to end"), TICK, True),
            (_("Infrastructure"), _("Serving scales with load"), TICK, True),
            (_("Testing"), _("Integration tests run the whole pipeline before each release"), TICK, True),
            (_("Monitoring"), _("Latency, throughput and error rates are monitored"), TICK, True),
            (_("Monitoring"), _("Alerts on model behaviour reach whoever is on call"), TICK, True),
            (_("Document"), _("Diagram of the serving architecture"), LINK, True),
            (_("Document"), _("Link to the monitoring dashboards"), LINK, False),
        ],
    }),
    ("engineering-manager", {
        "slug": "process-documentation",
        "name": _("Team process documentation"),
        "description": _(
            "Writes down the tools, infrastructure and processes the team uses for ML work, so "
            "that newcomers and old hands work the same way. Owned by the engineering manager "
            "on behalf of the whole team."
        ),
        "offset": 30,
        "items": [
            (_("Data"), _("Where does the model's data come from, and how is it produced?"), TEXT, True),
            (_("Data"), _("How do we explore, validate and visualise the data?"), TEXT, True),
            (_("Data"), _("What are the steps to change an input feature or a label in the training data?"), TEXT, True),
            (_("Data"), _("Where do test examples come from?"), TEXT, True),
            (_("Model"), _("How do we adapt the model architecture when features or labels change?"), TEXT, True),
            (_("Model"), _("Which metrics decide whether the model is good enough?"), TEXT, True),
            (_("Model"), _("Can the same pipeline train on other data sets, for example to fine-tune?"), TEXT, False),
            (_("Model"), _("How is a new test data set added to the pipeline?"), TEXT, False),
            (_("Training"), _("How do we check predictions on hand-crafted examples?"), TEXT, False),
            (_("Training"), _("How do we find, inspect and visualise the examples the model gets wrong?"), TEXT, False),
            (_("Training"), _("How do we see which features drove one prediction, and which matter most across a sample?"), TEXT, False),
            (_("Training"), _("How do we compute or plot predictions for a chosen data set or sample?"), TEXT, False),
            (_("Training"), _("How do we compute the standard metrics on a chosen data set?"), TEXT, False),
            (_("Training"), _("How do we define and compute a custom metric?"), TEXT, False),
            (_("Training"), _("How do we compare the model offline with other models?"), TEXT, False),
            (_("Training"), _("Can many model evaluations be analysed together in one environment?"), TEXT, False),
            (_("Training"), _("Can we compare today's model with one from many months ago?"), TEXT, False),
            (_("Production and monitoring"), _("How does a model get released to production?"), TEXT, True),
            (_("Production and monitoring"), _("How do we notice that something is wrong with the model?"), TEXT, True),
            (_("Production and monitoring"), _("How do we confirm that a newly released model works correctly in production?"), TEXT, False),
            (_("Production and monitoring"), _("Where is the history of model evaluations kept?"), TEXT, False),
            (_("Production and monitoring"), _("I was paged, or handed a bug about the model: what do I do?"), TEXT, False),
            (_("Pipelines"), _("How do we customise the data-generation, training and evaluation pipelines?"), TEXT, True),
            (_("Pipelines"), _("When do we build a whole new pipeline, and how?"), TEXT, False),
            (_("SQL"), _("How do we keep SQL maintainable and reusable?"), TEXT, True),
            (_("SQL"), _("Where does SQL that generates data belong?"), TEXT, False),
            (_("Infrastructure"), _("Which upstream systems does the model depend on?"), TEXT, True),
            (_("Infrastructure"), _("Is there a diagram of how model serving works?"), LINK, False),
            (_("Communication"), _("Who do I contact when I am stuck, and how?"), TEXT, False),
        ],
    }),
]


def seed(apps, schema_editor):
    Role = apps.get_model("roles", "Role")
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    ChecklistItemTemplate = apps.get_model("deliverables", "ChecklistItemTemplate")

    roles = {}
    for position, data in enumerate(ROLES, start=1):
        roles[data["slug"]], _created = Role.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "summary": data["summary"],
                "knowledge_and_skills": data["knowledge_and_skills"],
                "required_by_default": True,
                "position": position,
            },
        )
    for position, (role_slug, data) in enumerate(TYPES, start=1):
        deliverable_type, _created = DeliverableType.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "role": roles[role_slug],
                "description": data["description"],
                "default_due_offset_days": data["offset"],
                "position": position,
            },
        )
        ChecklistItemTemplate.objects.filter(deliverable_type=deliverable_type).delete()
        ChecklistItemTemplate.objects.bulk_create(
            ChecklistItemTemplate(
                deliverable_type=deliverable_type,
                area=area,
                text=text,
                answer_kind=kind,
                required=required,
                position=item_position,
            )
            for item_position, (area, text, kind, required) in enumerate(data["items"], start=1)
        )


def unseed(apps, schema_editor):
    DeliverableType = apps.get_model("deliverables", "DeliverableType")
    Role = apps.get_model("roles", "Role")
    slugs = [data["slug"] for _role, data in TYPES]
    DeliverableType.objects.filter(slug__in=slugs, deliverables__isnull=True).delete()
    Role.objects.filter(slug__in=[r["slug"] for r in ROLES], deliverable_types__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deliverables", "0001_initial"),
        ("roles", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
